"""Password policy: the 等保 level-3 profile by default (LIXIAO_PASSWORD_PROFILE)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PROFILES = {"djbh3": {"min_length": 8, "classes": 3}, "basic": {"min_length": 8, "classes": 2}}


def _profile():
    return PROFILES.get(settings.LIXIAO_PASSWORD_PROFILE, PROFILES["djbh3"])


class ProfileLengthValidator:
    def validate(self, password, user=None):
        n = _profile()["min_length"]
        if len(password) < n:
            raise ValidationError(
                _("密码至少需要 %(n)s 个字符。") % {"n": n}, code="password_too_short"
            )

    def get_help_text(self):
        return _("至少 %(n)s 个字符。") % {"n": _profile()["min_length"]}


class CharacterClassesValidator:
    PATTERNS = (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]")

    def validate(self, password, user=None):
        n = _profile()["classes"]
        if sum(bool(re.search(p, password)) for p in self.PATTERNS) < n:
            raise ValidationError(
                _("密码需包含小写字母、大写字母、数字、符号中的至少 %(n)s 类。") % {"n": n},
                code="password_classes",
            )

    def get_help_text(self):
        return _("包含小写字母、大写字母、数字、符号中的至少 %(n)s 类。") % {
            "n": _profile()["classes"]
        }


class PersonalDataValidator:
    """Not the 学号/职工号, not the name, not 6+ consecutive characters of the ID number."""

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.lower()
        if user.username and user.username.lower() in lowered:
            raise ValidationError(_("密码不能包含学号或职工号。"), code="password_username")
        if user.name and len(user.name) >= 2 and user.name in password:
            raise ValidationError(_("密码不能包含姓名。"), code="password_name")
        id_number = user.id_number() if user.pk else None
        if id_number:
            id_number = id_number.lower()
            for i in range(len(id_number) - 5):
                if id_number[i : i + 6] in lowered:
                    raise ValidationError(
                        _("密码不能包含身份证件号的连续片段。"), code="password_id_number"
                    )

    def get_help_text(self):
        return _("不能包含学号/职工号、姓名或身份证件号的片段。")
