"""Initial passwords (last 6 of the ID number) and checking the current password."""

import hmac
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from lixiao.directory import idnumbers


def initial_expired(user) -> bool:
    days = settings.LIXIAO_INITIAL_PASSWORD_DAYS
    return days > 0 and timezone.now() - user.initial_password_since > timedelta(days=days)


def check_initial(user, raw: str) -> bool:
    """True when the person still has the initial password and typed it (constant time)."""
    if not user.uses_initial_password:
        return False
    id_number = user.id_number()
    if not id_number:
        return False
    return hmac.compare_digest(idnumbers.initial_password(id_number).encode(), (raw or "").encode())


def check_current(user, raw: str) -> bool:
    if user.uses_initial_password:
        return check_initial(user, raw) and not initial_expired(user)
    return user.check_password(raw)


def set_new(user, raw: str) -> None:
    user.set_password(raw)
    user.uses_initial_password = False
    user.save(update_fields=["password", "uses_initial_password"])


def reset_to_initial(user) -> None:
    """Back to the initial-password rule (office reset); the clock for expiry restarts."""
    user.set_unusable_password()
    user.uses_initial_password = True
    user.initial_password_since = timezone.now()
    user.save(update_fields=["password", "uses_initial_password", "initial_password_since"])
