"""TOTP second factor for staff (RFC 6238, 6 digits, 30-second steps; arithmetic by pyotp).

Secrets are sealed with AES-GCM under a key derived from LIXIAO_ID_KEY (as ID numbers are,
with a key of their own; the value carries the key id, see lixiao.keyring) and bound to the
account, so the database never holds one in clear.
A code is accepted once: the device keeps the last accepted time step and refuses it and
anything older; one step of clock drift either way is allowed. Nothing here logs a secret.
"""

import hmac
import time

import pyotp
import segno
from django.conf import settings
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from lixiao import keyring
from lixiao.accounts.models import TOTPDevice

ISSUER = "Lixiao 离校"
DIGITS = 6
DRIFT_STEPS = 1
# The session keys: the secret being enrolled (sealed), and a login that passed the password.
SETUP_KEY = "lixiao_totp_setup"
PENDING_KEY = "lixiao_totp_pending"
PENDING_SECONDS = 5 * 60


def _clock() -> float:
    """Now, in seconds (tests set it to land on a chosen time step)."""
    return time.time()


# --- secrets at rest ---------------------------------------------------------------------------


# Derived like the ID-number keys, with its own label: no key serves two purposes. Sealed under
# the current key of LIXIAO_ID_KEY with its key id (lixiao.keyring), so keys can rotate.
_LABEL = b"lixiao-totp-secret:"


def _aad(user_id: int, purpose: str) -> bytes:
    return f"lixiao-totp:{purpose}:{user_id}".encode()


def seal(secret: str, user_id: int, purpose: str = "device") -> str:
    return keyring.seal(_LABEL, secret.encode(), _aad(user_id, purpose))


def unseal(token: str, user_id: int, purpose: str = "device") -> str:
    return keyring.unseal(_LABEL, token, _aad(user_id, purpose)).decode()


def reseal(token: str, user_id: int) -> str:
    """A device's secret sealed again under the current key (manage.py rotate_keys)."""
    return seal(unseal(token, user_id), user_id)


# --- enrolment ---------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def grouped(secret: str) -> str:
    """For typing by hand: ABCD EFGH IJKL …"""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    qr = segno.make(uri, error="m")
    # segno writes the SVG itself from the URI: no user text reaches it unescaped.
    return mark_safe(qr.svg_inline(scale=5, title=_("双因素认证二维码")))  # noqa: S308


def can_enrol(user) -> bool:
    """Staff only: a staff record, or the office or audit flag. A student account without one
    of these has no second factor (students log in with the 学号 and a password)."""
    if not user.is_authenticated:
        return False
    return user.is_office or user.is_auditor or hasattr(user, "staff")


# --- devices and codes -------------------------------------------------------------------------


def device_of(user):
    if user is None or not user.pk:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk).first()


def enabled(user) -> bool:
    return (
        bool(user is not None and user.pk) and TOTPDevice.objects.filter(user_id=user.pk).exists()
    )


def office_must_enrol(user) -> bool:
    """LIXIAO_OFFICE_TOTP: an office account without a second factor must set one up first."""
    return bool(settings.LIXIAO_OFFICE_TOTP and user.is_office and not enabled(user))


def clean_code(value: str) -> str | None:
    """The six digits typed (spaces allowed between them), or None."""
    code = "".join((value or "").split())
    return code if len(code) == DIGITS and code.isascii() and code.isdigit() else None


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (now ± DRIFT_STEPS) whose code this is, or None. Every candidate is
    compared, in constant time, so the answer's timing says nothing about which matched."""
    code = clean_code(code)
    if code is None:
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS)
    current = int((_clock() if now is None else now) // otp.interval)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(otp.generate_otp(step).encode(), code.encode()):
            found = step
    return found


def use_code(device, code: str, now: float | None = None) -> bool:
    """True once per time step: the device's last step moves forward in one conditional update,
    so two requests racing with the same code cannot both pass (on SQLite and PostgreSQL)."""
    step = matching_step(unseal(device.secret_enc, device.user_id), code, now)
    if step is None or step <= device.last_step:
        return False
    moved = TOTPDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
    if moved:
        device.last_step = step
    return bool(moved)


def enable(user, secret: str, step: int):
    """Store the confirmed secret (sealed); the confirming code's step counts as used."""
    from django.utils import timezone

    device, _created = TOTPDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_enc": seal(secret, user.pk),
            "last_step": step,
            "enabled_at": timezone.now(),
        },
    )
    return device


def disable(user) -> bool:
    deleted, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
    return bool(deleted)


# --- the login that waits for its code ---------------------------------------------------------


def start_pending(request, user, next_url: str) -> None:
    # A new session key now, not only at login: a session key planted in the browser beforehand
    # must not be able to stand in the code step of somebody else's login.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", ""),
        "next": next_url,
        "at": time.time(),
    }


def pending(request) -> dict | None:
    """The login waiting for a code, or None (none, or older than PENDING_SECONDS)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return data


def end_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)
