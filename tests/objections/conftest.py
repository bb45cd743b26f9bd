"""Attachments of these tests go to a throwaway folder (the portal tests' storage fixture)."""

from tests.portal.conftest import _media  # noqa: F401  (an autouse fixture, used by name)
