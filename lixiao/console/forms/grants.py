"""Grant forms: the office's (any step, by staff number) and a college lead's delegation."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.clearance.models import Grant, OwnerType, Scope, Step
from lixiao.console.forms import BootstrapMixin, DateInput
from lixiao.directory.models import College, Staff, User


def find_person(number: str) -> User | None:
    return User.objects.filter(username=number).select_related("staff").first()


def ensure_staff(number: str, name: str) -> tuple[User, bool]:
    """The staff account with this number, created (with its Staff row) when it does not exist."""
    user = find_person(number)
    if user is not None:
        return user, False
    # No password: the person signs in by campus SSO or after the office sets their ID number.
    user = User.objects.create_user(number, name=name)
    Staff.objects.create(user=user, staff_number=number, name=name)
    return user, True


def check_scope(step: Step, scope: str, college) -> dict[str, str]:
    """Errors by field: department steps reach the whole school, college steps one college or 'mine'."""
    errors = {}
    if step.owner_type == OwnerType.DEPARTMENT and scope != Scope.SCHOOL:
        errors["scope"] = gettext("“%(step)s”是学校部门环节，授权范围应为全校。") % {
            "step": step.title
        }
    if step.owner_type == OwnerType.COLLEGE and scope == Scope.SCHOOL:
        errors["scope"] = gettext("“%(step)s”是院系环节，请按院系授权（本院系或我的学生）。") % {
            "step": step.title
        }
    if scope == Scope.COLLEGE and not college:
        errors["college"] = gettext("范围为本院系时须选择院系。")
    return errors


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

    def duplicate(self, batch, step, user, scope, college) -> bool:
        qs = Grant.objects.filter(batch=batch, step=step, user=user)
        return qs.filter(
            Q(college=college) if college else Q(college__isnull=True, scope=scope)
        ).exists()


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
        person = find_person(number) if number else None
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
            for field, message in check_scope(step, scope, data.get("college")).items():
                self.add_error(field, message)
            if scope == Scope.SCHOOL:
                data["college"] = None
            if data.get("is_lead") and scope != Scope.COLLEGE:
                self.add_error("is_lead", gettext("只有按院系授权的人员可设为院系负责人。"))
        if person is not None and step and scope and not self.errors:
            if self.duplicate(self.batch, step, person, scope, data.get("college")):
                self.add_error(
                    "staff_number",
                    gettext("%(person)s 已有“%(step)s”的相同授权。")
                    % {"person": person, "step": step.title},
                )
        data["person"] = person
        return data

    def save(self, created_by) -> tuple[Grant, bool]:
        data = self.cleaned_data
        user, created = ensure_staff(data["staff_number"], data["name"].strip())
        grant = Grant.objects.create(
            batch=self.batch,
            step=data["step"],
            user=user,
            scope=data["scope"],
            college=data.get("college"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            is_lead=data.get("is_lead", False),
            created_by=created_by,
        )
        return grant, created


class DelegationForm(GrantFormBase):
    """A college lead grants one of its lead grants' steps to a counselor of the same college."""

    lead = forms.ModelChoiceField(
        label=_("批次与环节"), queryset=Grant.objects.none(), empty_label=None
    )
    staff_number = forms.CharField(label=_("辅导员职工号"), max_length=32)
    field_order = ["lead", "staff_number", "scope", "starts_on", "ends_on"]

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = leads
        self.fields["lead"].label_from_instance = lambda g: (
            f"{g.batch.name} · {g.step.title} · {g.college.name}"
        )
        self.fields["scope"].choices = [
            (Scope.COLLEGE, gettext("本院系")),
            (Scope.MINE, gettext("我的学生（名单上的辅导员）")),
        ]

    def clean(self):
        data = super().clean()
        lead, number = data.get("lead"), (data.get("staff_number") or "").strip()
        if not lead or not number:
            return data
        staff = Staff.objects.filter(staff_number=number).select_related("user").first()
        if staff is None or staff.college_id != lead.college_id:
            self.add_error(
                "staff_number",
                gettext("职工号 %(number)s 不是%(college)s的教职工，只能授权本院系人员。")
                % {"number": number, "college": lead.college.name},
            )
            return data
        college = lead.college if data.get("scope") == Scope.COLLEGE else None
        if self.duplicate(lead.batch, lead.step, staff.user, data.get("scope"), college):
            self.add_error("staff_number", gettext("%(staff)s 已有此授权。") % {"staff": staff})
        data["person"], data["college"] = staff.user, college
        return data

    def save(self, created_by) -> Grant:
        data = self.cleaned_data
        lead = data["lead"]
        return Grant.objects.create(
            batch=lead.batch,
            step=lead.step,
            user=data["person"],
            scope=data["scope"],
            college=data["college"],
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            created_by=created_by,
        )
