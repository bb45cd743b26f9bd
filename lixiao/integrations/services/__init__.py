"""Integration services: tokens, storing a source's rows, pulling, and syncing them onto forms."""

from lixiao.integrations.services.tokens import (  # noqa: F401 — the public entry points
    authenticate,
    hash_token,
    revoke_token,
    rotate_token,
    set_token,
)
