"""Master data forms: colleges, departments and staff (账号随教职工创建)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.directory import idnumbers
from lixiao.directory.models import College, Department, Staff, User
from lixiao.ui import BootstrapMixin


class CollegeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = College
        fields = ["code", "name"]


class DepartmentForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "contact"]


class StaffForm(BootstrapMixin, forms.ModelForm):
    id_number = forms.CharField(
        label=_("身份证件号"),
        required=False,
        help_text=_(
            "填写后初始密码为其后 6 位；不填则账号暂无可用密码，须由管理员重置密码。编辑时留空表示不修改。"
        ),
    )

    class Meta:
        model = Staff
        fields = ["staff_number", "name", "college", "department", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The 职工号 is the login name: changing it would lock the person out silently.
            self.fields["staff_number"].disabled = True

    def clean_staff_number(self):
        number = self.cleaned_data["staff_number"].strip()
        if not self.instance.pk and User.objects.filter(username=number).exists():
            raise forms.ValidationError(gettext("该号码已被其他账号使用"))
        return number

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        if value:
            problem = idnumbers.problem(value)
            if problem:
                raise forms.ValidationError(problem)
        return value


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("代码、名称、职工号或姓名")}
        ),
    )
