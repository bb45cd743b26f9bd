"""Tasks (email, webhook) run eagerly here through django-tasks' ImmediateBackend."""

import pytest


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
