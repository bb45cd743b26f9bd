"""The audit viewer's filters: student, step, handler, source, action, date range."""

from django import forms

from lixiao.clearance.models import Source, Step
from lixiao.console.forms import BootstrapMixin, DateInput

ACTIONS = [
    ("", "全部"),
    ("clearance.record.passed", "办理通过"),
    ("clearance.record.revoked", "撤销办理"),
    ("clearance.record.reopened", "联动退回"),
    ("clearance.record.applicable", "变为需办理"),
    ("clearance.record.not_applicable", "变为无需办理"),
    ("clearance.record.refused", "被拒绝的操作"),
    ("clearance.bulk.applied", "批量办理"),
    ("clearance.group.undone", "撤销操作组"),
    ("roster.", "名单导入"),
    ("console.", "配置变更"),
    ("audit.", "审计导出"),
]


class AuditFilterForm(BootstrapMixin, forms.Form):
    student = forms.CharField(label="学号", required=False)
    step = forms.ModelChoiceField(
        label="环节", required=False, queryset=Step.objects.none(), empty_label="全部"
    )
    handler = forms.CharField(label="操作人（职工号）", required=False)
    source = forms.ChoiceField(
        label="来源", required=False, choices=[("", "全部"), *Source.choices]
    )
    action = forms.ChoiceField(label="动作", required=False, choices=ACTIONS)
    since = forms.DateField(label="起始日期", required=False, widget=DateInput())
    until = forms.DateField(label="截止日期", required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = Step.objects.select_related("category").order_by(
            "category_id", "order"
        )
        self.fields["step"].label_from_instance = lambda s: f"{s.category.name} · {s.title}"
