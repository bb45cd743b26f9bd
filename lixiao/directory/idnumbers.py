"""ID numbers (身份证件号): GB 11643 validation, encryption at rest, keyed hash, masking."""

import hashlib
import hmac
import re
from functools import lru_cache

from django.utils.translation import gettext as _

from lixiao import keyring

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT = re.compile(r"^\d{17}[\dX]$")


def normalise(value: str) -> str:
    """Upper-case and strip: a trailing x is written as X (as the manual asks)."""
    return (value or "").strip().upper()


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def problem(value: str) -> str | None:
    """Why a resident ID number is invalid, in words a person can act on; None when valid."""
    value = normalise(value)
    if not _RESIDENT.match(value):
        return _("身份证件号应为 18 位：前 17 位数字，最后一位数字或 X")
    if check_digit(value[:17]) != value[17]:
        return _("身份证件号校验位不正确（GB 11643），请核对")
    return None


def initial_password(value: str) -> str:
    """The initial password rule: the last 6 characters, a trailing x as upper-case X."""
    return normalise(value)[-6:]


def mask(value: str) -> str:
    """At most the first 6 characters stay visible: the last 6 are the initial password."""
    value = normalise(value)
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 6) if len(value) > 6 else "*" * len(value)


# Two keys derived from each configured secret (lixiao.keyring), so the hash key never doubles
# as the cipher key. The labels are those of the first release: its values still open.
_ENCRYPT = b"lixiao-id-encrypt:"
_LOOKUP = b"lixiao-id-lookup:"


@lru_cache(maxsize=8)
def _mac(secret: str) -> bytes:
    return keyring.derive(secret, _LOOKUP)


def lookup_hash(value: str, key: keyring.Key | None = None) -> str:
    """Keyed hash for exact lookup under the current key (or `key`): nothing can be read back."""
    key = key or keyring.current()
    return hmac.new(_mac(key.secret), normalise(value).encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str) -> list[str]:
    """The value's hash under every configured key, current first: a lookup matches rows that
    `manage.py rotate_keys` has not re-hashed yet as well as those it has."""
    return [lookup_hash(value, key) for key in keyring.configured()]


def hash_matches(value: str, stored_hash: str) -> bool:
    """Whether a stored hash is this value's, under any configured key."""
    return bool(stored_hash) and stored_hash in lookup_hashes(value)


def encrypt(value: str) -> str:
    """Sealed under the current key, carrying its key id (lixiao.keyring)."""
    return keyring.seal(_ENCRYPT, normalise(value).encode())


def decrypt(token: str) -> str:
    return keyring.unseal(_ENCRYPT, token).decode()


def reseal(token: str) -> tuple[str, str]:
    """An ID number sealed and hashed again under the current key (manage.py rotate_keys)."""
    value = decrypt(token)
    return encrypt(value), lookup_hash(value)
