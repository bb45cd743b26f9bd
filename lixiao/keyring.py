"""The keys that seal data at rest (LIXIAO_ID_KEY, newest first) and the key id each ciphertext carries.

A ciphertext is written `<key id>:<base64(nonce + AES-GCM sealed bytes)>` under the first
configured key; it is opened by the key its id names, so several keys can be configured while
`manage.py rotate_keys` re-seals old values. The key id is a short fingerprint of the key (not
chosen by hand, so two different keys never share one). Values sealed before key ids existed
(plain base64, no `:`) are opened by trying every configured key: AES-GCM's tag tells which.
"""

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEPARATOR = ":"
NONCE_BYTES = 12


class UnknownKey(Exception):
    """No configured key opens this value: the key that sealed it was removed from LIXIAO_ID_KEY."""

    def __init__(self, key_id: str | None):
        self.key_id = key_id
        named = f"key id {key_id}" if key_id else "a key from before key ids"
        super().__init__(
            f"a value sealed with {named} cannot be opened: put that key back into "
            "LIXIAO_ID_KEY (after the current one) and run manage.py rotate_keys"
        )


@dataclass(frozen=True)
class Key:
    id: str
    secret: str


def key_id(secret: str) -> str:
    """8 hex characters of a hash of the key: enough to tell keys apart, nothing to guess from."""
    return hashlib.sha256(b"lixiao-key-id:" + secret.encode()).hexdigest()[:8]


@lru_cache(maxsize=8)
def _parse(secrets: tuple[str, ...]) -> tuple[Key, ...]:
    keys = tuple(Key(key_id(s), s) for s in secrets)
    if not keys:
        raise ImproperlyConfigured("LIXIAO_ID_KEY is empty: set at least one key")
    if len({k.id for k in keys}) != len(keys):
        raise ImproperlyConfigured("LIXIAO_ID_KEY lists the same key twice: list each key once")
    return keys


def configured() -> tuple[Key, ...]:
    """Every configured key, the current one (which seals new values) first."""
    return _parse(tuple(settings.ID_NUMBER_KEYS))


def current() -> Key:
    return configured()[0]


def by_id(kid: str) -> Key:
    for key in configured():
        if key.id == kid:
            return key
    raise UnknownKey(kid)


def derive(secret: str, label: bytes) -> bytes:
    """One key per purpose from one secret (label + secret, SHA-256): no key serves two purposes."""
    return hashlib.sha256(label + secret.encode()).digest()


@lru_cache(maxsize=32)
def _aead(secret: str, label: bytes) -> AESGCM:
    return AESGCM(derive(secret, label))


def seal(label: bytes, plaintext: bytes, aad: bytes | None = None) -> str:
    key = current()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(key.secret, label).encrypt(nonce, plaintext, aad)
    return f"{key.id}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(token: str) -> str | None:
    """The id of the key that sealed this value; None for a value from before key ids."""
    kid, sep, _body = token.rpartition(SEPARATOR)
    return kid if sep else None


def is_current(token: str) -> bool:
    return key_id_of(token) == current().id


def unseal(label: bytes, token: str, aad: bytes | None = None) -> bytes:
    kid, sep, body = token.rpartition(SEPARATOR)
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise UnknownKey(kid or None) from None
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    if sep:
        try:
            return _aead(by_id(kid).secret, label).decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise UnknownKey(kid) from None
    # Sealed before key ids: by whichever key was LIXIAO_ID_KEY then, so by one of these.
    for key in configured():
        try:
            return _aead(key.secret, label).decrypt(nonce, sealed, aad)
        except InvalidTag:
            continue
    raise UnknownKey(None)
