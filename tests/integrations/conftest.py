"""Tasks run eagerly here: django-tasks' ImmediateBackend replaces the database backend.

Chosen per test package (not in settings) so that the production path stays the default and
one test can still start the real worker against the database backend. Enqueues happen in
`transaction.on_commit`; tests that need them run use django_capture_on_commit_callbacks.
"""

import pytest

from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.services import set_token

FINANCE_TOKEN = "test-finance-token"
LIBRARY_TOKEN = "test-library-token"


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def finance(uni):
    source = IntegrationSource.objects.get(code="finance")
    set_token(source, FINANCE_TOKEN)
    return source


@pytest.fixture
def library(uni):
    source = IntegrationSource.objects.get(code="library")
    set_token(source, LIBRARY_TOKEN)
    return source


def push(client, code, rows, token, mode="upsert", **extra):
    return client.post(
        f"/api/v1/sources/{code}/rows",
        {"mode": mode, "rows": rows},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )
