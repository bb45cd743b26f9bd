"""ID numbers (身份证件号): GB 11643 validation, encryption at rest, keyed hash, masking."""

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext as _

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


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    # Two keys derived from one secret, so the hash key never doubles as the cipher key.
    enc = hashlib.sha256(b"lixiao-id-encrypt:" + secret.encode()).digest()
    mac = hashlib.sha256(b"lixiao-id-lookup:" + secret.encode()).digest()
    return enc, mac


def lookup_hash(value: str) -> str:
    """Keyed hash for exact lookup: equal IDs give equal hashes, nothing can be read back."""
    _, mac = _keys(settings.ID_NUMBER_KEY)
    return hmac.new(mac, normalise(value).encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _cipher(secret: str) -> AESGCM:
    return AESGCM(_keys(secret)[0])


def encrypt(value: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(settings.ID_NUMBER_KEY).encrypt(nonce, normalise(value).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    return _cipher(settings.ID_NUMBER_KEY).decrypt(raw[:12], raw[12:], None).decode()
