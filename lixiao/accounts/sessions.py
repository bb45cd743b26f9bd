"""Database sessions (SESSION_ENGINE) that take a cookie no session could have as no session at all.

Django's own keys are 32 characters of a-z and 0-9. A cookie can carry anything else, even a NUL
(a quoted value with the octal escape \\000), and PostgreSQL refuses a NUL in a query with an
error: every page and every API call answered 500 to such a cookie, before any view ran.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()
