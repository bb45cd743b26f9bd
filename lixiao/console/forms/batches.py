"""The batch form: basic data of one run of the process."""

import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.clearance.models import Batch
from lixiao.clearance.services import batches
from lixiao.ui import BootstrapMixin, DateTimeInput

_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


class BatchForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Batch
        fields = list(batches.FIELDS)  # what the core's service writes, nothing more
        widgets = {
            "opens_at": DateTimeInput(),
            "closes_at": DateTimeInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "academic_year": _("例如 2026-2027"),
            "enabled": _("未启用的批次对学生和办理人员不可见。"),
            "opens_at": _("学生和办理人员只能在服务时间内办理；管理员可随时调整。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student_type"].choices = [
            ("", gettext("（不限）")),
            *self.fields["student_type"].choices[1:],
        ]
        self.fields["category"].empty_label = gettext("（请选择离校类别）")
        if self.instance.pk and self.instance.forms.exists():
            self.fields["category"].disabled = True
            self.fields["category"].help_text = gettext("已导入名单的批次不能更换离校类别。")

    def clean_academic_year(self):
        year = self.cleaned_data["academic_year"].strip()
        match = _YEAR.match(year)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise forms.ValidationError(
                gettext("学年格式应为“2026-2027”：两个相邻的年份，中间用减号连接。")
            )
        return year

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            self.add_error("closes_at", gettext("服务结束时间应晚于开始时间。"))
        return data
