"""Desk test helpers: a logged-in client per persona."""

import pytest
from django.test import Client


@pytest.fixture
def as_user(db):
    """as_user(user) → a client logged in as that person (CSRF enforced like a browser)."""

    def make(user, enforce_csrf=False):
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return client

    return make


def desk_url(batch, tail="") -> str:
    return f"/desk/b/{batch.id}/{tail}"
