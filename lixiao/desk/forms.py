"""The desk's own forms: a college lead's delegation, a department's change request."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.clearance import services
from lixiao.clearance.models import Category, ChangeRequest, Grant, OwnerType, Scope, Step
from lixiao.directory.models import Department
from lixiao.ui import BootstrapMixin, DateInput


class DelegationForm(BootstrapMixin, forms.Form):
    """A college lead grants one of its lead grants' steps to a counselor of the same college.

    The core's service (services.delegate) checks the lead, the person and duplicates; its
    refusal is shown on the staff number field.
    """

    lead = forms.ModelChoiceField(
        label=_("批次与环节"), queryset=Grant.objects.none(), empty_label=None
    )
    staff_number = forms.CharField(label=_("辅导员职工号"), max_length=32)
    scope = forms.ChoiceField(label=_("范围"))
    starts_on = forms.DateField(label=_("生效日期"), required=False, widget=DateInput())
    ends_on = forms.DateField(
        label=_("截止日期"), required=False, widget=DateInput(), help_text=_("留空表示不限。")
    )

    def __init__(self, *args, leads: list[Grant], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = Grant.objects.filter(
            pk__in=[g.pk for g in leads]
        ).select_related("batch", "step", "college")
        self.fields["lead"].label_from_instance = lambda g: (
            f"{g.batch.name} · {g.step.title} · {g.college.name}"
        )
        self.fields["scope"].choices = [
            (Scope.COLLEGE, gettext("本院系")),
            (Scope.MINE, gettext("我的学生（名单上的辅导员）")),
        ]

    def save(self, actor) -> Grant | None:
        """The grant, or None with the service's refusal added to the form."""
        data = self.cleaned_data
        try:
            return services.delegate(
                actor,
                data["lead"],
                data["staff_number"].strip(),
                data["scope"],
                starts_on=data.get("starts_on"),
                ends_on=data.get("ends_on"),
            )
        except services.Refused as refusal:
            field = "ends_on" if refusal.code == "dates" else "staff_number"
            self.add_error(field, str(refusal))
            return None


class ChangeRequestForm(BootstrapMixin, forms.Form):
    """A request to add or remove a step of a category whose change deadline has not passed."""

    category = forms.ModelChoiceField(
        label=_("离校类别"), queryset=Category.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=ChangeRequest.Kind.choices,
        widget=forms.RadioSelect,
        initial=ChangeRequest.Kind.ADD,
    )
    step = forms.ModelChoiceField(
        label=_("要删除的环节"),
        queryset=Step.objects.none(),
        required=False,
        empty_label=_("（删除环节时选择）"),
    )
    title = forms.CharField(label=_("新环节标题"), max_length=64, required=False)
    owner_type = forms.ChoiceField(label=_("环节类型"), choices=OwnerType.choices, required=False)
    department = forms.ModelChoiceField(
        label=_("所属部门"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("（院系环节不选）"),
    )
    instructions = forms.CharField(
        label=_("办理说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(label=_("申请理由"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = services.open_categories()
        self.fields["category"].queryset = categories
        self.fields["step"].queryset = Step.objects.filter(category__in=categories).select_related(
            "category"
        )
        self.fields["step"].label_from_instance = lambda s: f"{s.category.name} · {s.title}"

    def clean(self):
        data = super().clean()
        category, kind = data.get("category"), data.get("kind")
        if not category:
            return data
        if kind == ChangeRequest.Kind.REMOVE:
            step = data.get("step")
            if step is None:
                self.add_error("step", gettext("请选择要删除的环节。"))
            elif step.category_id != category.id:
                self.add_error(
                    "step",
                    gettext("“%(step)s”不属于“%(category)s”。")
                    % {"step": step.title, "category": category.name},
                )
            else:
                data["title"] = step.title
        else:
            title = (data.get("title") or "").strip()
            if not title:
                self.add_error("title", gettext("请填写新环节的标题。"))
            elif Step.objects.filter(category=category, title=title).exists():
                self.add_error(
                    "title",
                    gettext("“%(category)s”已有“%(title)s”环节。")
                    % {"category": category.name, "title": title},
                )
            if data.get("owner_type") == OwnerType.DEPARTMENT and not data.get("department"):
                self.add_error("department", gettext("学校部门环节须选择所属部门。"))
            data["step"] = None
        return data

    def save(self, actor) -> ChangeRequest:
        data = self.cleaned_data
        return services.submit_change_request(
            actor,
            category=data["category"],
            kind=data["kind"],
            reason=data["reason"],
            step=data.get("step"),
            title=data.get("title") or "",
            owner_type=data.get("owner_type") or "",
            department=data.get("department"),
            instructions=data.get("instructions", ""),
        )
