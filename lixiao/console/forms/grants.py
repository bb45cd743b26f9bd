"""The office's grant form: any step of a category (or of one batch), a person by staff number."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.clearance import services
from lixiao.clearance.models import Grant, Scope, Step
from lixiao.directory.models import College
from lixiao.ui import BootstrapMixin, DateInput


class GrantFormBase(BootstrapMixin, forms.Form):
    scope = forms.ChoiceField(label=_("范围"), choices=Scope.choices)
    starts_on = forms.DateField(label=_("生效日期"), required=False, widget=DateInput())
    ends_on = forms.DateField(
        label=_("截止日期"), required=False, widget=DateInput(), help_text=_("留空表示不限。")
    )

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", gettext("截止日期不能早于生效日期。"))
        return data


class GrantForm(GrantFormBase):
    step = forms.ModelChoiceField(
        label=_("环节"), queryset=Step.objects.none(), empty_label=_("（请选择环节）")
    )
    staff_number = forms.CharField(label=_("职工号"), max_length=32)
    name = forms.CharField(
        label=_("姓名"),
        max_length=64,
        required=False,
        help_text=_("职工号尚未登记时填写，将据此创建教职工账号。"),
    )
    college = forms.ModelChoiceField(
        label=_("院系"), queryset=College.objects.all(), required=False, empty_label=_("（不限）")
    )
    is_lead = forms.BooleanField(label=_("院系负责人（可向本院系辅导员再授权）"), required=False)
    field_order = [
        "step",
        "staff_number",
        "name",
        "scope",
        "college",
        "starts_on",
        "ends_on",
        "is_lead",
    ]

    def __init__(self, *args, category, batch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category, self.batch = category, batch
        self.fields["step"].queryset = Step.objects.filter(category=category).order_by(
            "order", "id"
        )

    def clean(self):
        data = super().clean()
        number = (data.get("staff_number") or "").strip()
        data["staff_number"] = number
        person = services.find_person(number) if number else None
        if number and person is None and not (data.get("name") or "").strip():
            self.add_error(
                "name",
                gettext("职工号 %(number)s 尚未登记，请填写姓名以创建账号。") % {"number": number},
            )
        if person is not None and hasattr(person, "student"):
            self.add_error(
                "staff_number",
                gettext("%(number)s 是学生学号，不能授权办理。") % {"number": number},
            )
        step, scope = data.get("step"), data.get("scope")
        if step and scope:
            for field, message in services.scope_errors(step, scope, data.get("college")).items():
                self.add_error(field, message)
            if scope == Scope.SCHOOL:
                data["college"] = None
            if data.get("is_lead") and scope != Scope.COLLEGE:
                self.add_error("is_lead", gettext("只有按院系授权的人员可设为院系负责人。"))
        if person is not None and step and scope and not self.errors:
            if services.is_duplicate(self.batch, step, person, scope, data.get("college")):
                self.add_error(
                    "staff_number",
                    gettext("%(person)s 已有“%(step)s”的相同授权。")
                    % {"person": person, "step": step.title},
                )
        data["person"] = person
        return data

    def save(self, actor) -> tuple[Grant, bool]:
        """Through the core's service: (grant, whether the person's account was created)."""
        data = self.cleaned_data
        return services.create_grant(
            actor,
            step=data["step"],
            batch=self.batch,
            staff_number=data["staff_number"],
            name=data.get("name") or "",
            scope=data["scope"],
            college=data.get("college"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            is_lead=data.get("is_lead", False),
        )
