"""The office's decision on a change request (the request itself is the desk's form)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.ui import BootstrapMixin


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
