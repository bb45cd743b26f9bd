"""The category form: name, completion rule, deadline for change requests."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lixiao.clearance.models import Category
from lixiao.ui import BootstrapMixin, DateInput


class CategoryForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "completion_rule", "change_deadline"]
        widgets = {"change_deadline": DateInput(), "completion_rule": forms.RadioSelect}
        help_texts = {
            "completion_rule": _(
                "办结必办即完成：全部必办环节通过即办结；办结全部即完成：全部适用环节通过才办结。"
            ),
            "change_deadline": _(
                "各部门可在此日期（含）之前提交环节变更申请；留空表示不接受申请。"
            ),
        }
        error_messages = {"name": {"unique": _("已有同名的离校类别，请换一个名称。")}}
