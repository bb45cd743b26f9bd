"""The audit viewer's filters: student, step, handler, source, action, date range."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lixiao.clearance.models import Source, Step
from lixiao.ui import BootstrapMixin, DateInput

ACTIONS = [
    ("", _("全部")),
    ("clearance.record.passed", _("办理通过")),
    ("clearance.record.revoked", _("撤销办理")),
    ("clearance.record.reopened", _("联动退回")),
    ("clearance.record.applicable", _("变为需办理")),
    ("clearance.record.not_applicable", _("变为无需办理")),
    ("clearance.record.refused", _("被拒绝的操作")),
    ("clearance.bulk.applied", _("批量办理")),
    ("clearance.group.undone", _("撤销操作组")),
    ("roster.", _("名单导入")),
    ("console.", _("配置变更")),
    ("audit.", _("审计导出")),
]


class AuditFilterForm(BootstrapMixin, forms.Form):
    student = forms.CharField(label=_("学号"), required=False)
    step = forms.ModelChoiceField(
        label=_("环节"), required=False, queryset=Step.objects.none(), empty_label=_("全部")
    )
    handler = forms.CharField(label=_("操作人（职工号）"), required=False)
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部")), *Source.choices]
    )
    action = forms.ChoiceField(label=_("动作"), required=False, choices=ACTIONS)
    since = forms.DateField(label=_("起始日期"), required=False, widget=DateInput())
    until = forms.DateField(
        label=pgettext_lazy("date range", "截止日期"), required=False, widget=DateInput()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = Step.objects.select_related("category").order_by(
            "category_id", "order"
        )
        self.fields["step"].label_from_instance = lambda s: f"{s.category.name} · {s.title}"
