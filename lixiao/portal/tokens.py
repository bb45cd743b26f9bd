"""The certificate's verification token: the form id, signed with the site's secret key."""

from django.core import signing

SALT = "lixiao.portal.certificate"


def make(form_id: int) -> str:
    # The HMAC-SHA256 signature makes it unguessable; the id alone lets the page read "as of now".
    return signing.Signer(salt=SALT, algorithm="sha256").sign(str(form_id)).replace(":", ".")


def read(token: str) -> int | None:
    """The form id of a genuine token; None for a forged or altered one."""
    try:
        value = signing.Signer(salt=SALT, algorithm="sha256").unsign(token.replace(".", ":", 1))
        return int(value)
    except (signing.BadSignature, ValueError):
        return None
