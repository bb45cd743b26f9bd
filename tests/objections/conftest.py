"""Attachments of these tests go to a throwaway folder."""

import pytest


@pytest.fixture(autouse=True)
def _media(media):
    """The shared storage fixture (tests/conftest.py), for every test here."""
