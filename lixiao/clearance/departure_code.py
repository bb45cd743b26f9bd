"""离校码 (counter mode): a short-lived, signed pointer to one form.

The student shows it as a QR code on their phone; a handler scans it (phone camera or a desk
scanner typing into the search box) and lands on that form, within their own scope. The code
carries only the form id, signed with the site's key and stamped with its issue time: a
screenshot stops working after LIXIAO_COUNTER_CODE_MINUTES, and it never grants anything the
handler's grants do not.
"""

from django.conf import settings
from django.core import signing

SALT = "lixiao.counter"


class Expired(Exception):
    """A genuine code past its validity."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, algorithm="sha256")


def make(form_id: int) -> str:
    # ":" would be escaped in a URL; base64url never contains ".", so it maps back exactly.
    return _signer().sign(str(form_id)).replace(":", ".")


def read(token: str) -> int | None:
    """The form id of a genuine, current code; None for a forged one; Expired when too old."""
    try:
        value = _signer().unsign(token.replace(".", ":"), max_age=minutes() * 60)
        return int(value)
    except signing.SignatureExpired:
        raise Expired from None
    except (signing.BadSignature, ValueError):
        return None


def minutes() -> int:
    return settings.LIXIAO_COUNTER_CODE_MINUTES
