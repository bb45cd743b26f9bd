"""Login and password-change forms."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.accounts import passwords, totp


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "学号/职工号或密码不正确。初始密码为身份证件号后 6 位（末位 X 请大写）。"
        ),
        "inactive": _("该账号已停用，请联系学生离校工作主管部门。"),
        "initial_expired": _("初始密码已过期，请联系学生离校工作主管部门重置密码。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = gettext("学号/职工号")
        self.fields["password"].label = gettext("密码")

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "lixiao_initial_expired", False):
                raise forms.ValidationError(
                    self.error_messages["initial_expired"], code="initial_expired"
                ) from None
            raise


class PasswordChangeForm(forms.Form):
    current = forms.CharField(
        label=_("当前密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new1 = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new2 = forms.CharField(
        label=_("再次输入新密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["new1"].help_text = password_validation.password_validators_help_text_html()

    def clean_current(self):
        if not passwords.check_current(self.user, self.cleaned_data["current"]):
            raise forms.ValidationError(gettext("当前密码不正确。"))
        return self.cleaned_data["current"]

    def clean(self):
        data = super().clean()
        new1, new2 = data.get("new1"), data.get("new2")
        if new1 and new2:
            if new1 != new2:
                self.add_error("new2", gettext("两次输入的新密码不一致。"))
            elif data.get("current") == new1:
                self.add_error("new1", gettext("新密码不能与当前密码相同。"))
            else:
                try:
                    password_validation.validate_password(new1, self.user)
                except forms.ValidationError as exc:
                    self.add_error("new1", exc)
        return data


class TOTPCodeForm(forms.Form):
    """Six digits from the authenticator app (spaces allowed); never shown back on the page."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
        help_text=_("身份验证器应用中显示的 6 位数字。"),
    )

    def clean_code(self):
        code = totp.clean_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(gettext("请输入 6 位数字验证码。"))
        return code


class TOTPDisableForm(TOTPCodeForm):
    """Turning the second factor off needs the current password and a current code."""

    password = forms.CharField(
        label=_("当前密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "code"]

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)

    def clean_password(self):
        if not passwords.check_current(self.user, self.cleaned_data["password"]):
            raise forms.ValidationError(gettext("当前密码不正确。"))
        return self.cleaned_data["password"]
