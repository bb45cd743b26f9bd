"""Push tokens: one per source, shown once, stored as SHA-256, compared in constant time."""

import hashlib
import hmac
import secrets

from django.utils import timezone

from lixiao.integrations.models import IntegrationSource

PREFIX = "lx_"


def hash_token(raw: str) -> str:
    # A token is 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def set_token(source: IntegrationSource, raw: str) -> None:
    """Make `raw` the source's push token (the demo uses fixed ones; real ones come from rotate)."""
    source.token_hash = hash_token(raw)
    source.token_created_at = timezone.now()
    source.token_revoked_at = None
    source.save(update_fields=["token_hash", "token_created_at", "token_revoked_at"])


def rotate_token(source: IntegrationSource) -> str:
    """Generate a new token, replacing the old one at once; the caller shows it once."""
    raw = PREFIX + secrets.token_urlsafe(32)
    set_token(source, raw)
    return raw


def revoke_token(source: IntegrationSource) -> None:
    source.token_revoked_at = timezone.now()
    source.save(update_fields=["token_revoked_at"])


def authenticate(code: str, raw: str | None) -> IntegrationSource | None:
    """The source named `code` if `raw` is its current token; None otherwise (say nothing more)."""
    source = IntegrationSource.objects.filter(code=code).first()
    presented = hash_token(raw or "")
    stored = source.token_hash if source and source.has_token else ""
    # Compare even when there is nothing stored, so timing tells nothing about which case it was.
    matches = hmac.compare_digest(presented, stored or "0" * 64)
    return source if (matches and raw and stored) else None
