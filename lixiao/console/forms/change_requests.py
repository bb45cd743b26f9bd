"""Change requests: a department's add/remove request, and the office's decision."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.clearance.models import Category, OwnerType, Step
from lixiao.console.forms import BootstrapMixin
from lixiao.console.models import ChangeRequest
from lixiao.directory.models import Department


def open_categories():
    """Categories whose change deadline has not passed."""
    return Category.objects.filter(change_deadline__gte=timezone.localdate()).order_by("name")


class ChangeRequestForm(BootstrapMixin, forms.Form):
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
        categories = open_categories()
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


class DecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("同意")), ("reject", _("驳回"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", gettext("驳回时请写明理由，申请人将看到这段文字。"))
        return data
