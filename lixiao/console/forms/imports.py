"""Upload forms for the office's imports (roster and master data): one file, .xlsx or .csv."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lixiao.ui import BootstrapMixin


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("选择文件（.xlsx 或 .csv，UTF-8 或 GBK 编码）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class RosterConfirmForm(forms.Form):
    create_colleges = forms.BooleanField(required=False)
    create_counselors = forms.BooleanField(required=False)
