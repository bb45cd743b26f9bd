"""The cached forms section of the student's page (/me/), under a key that versions every input.

Building the section costs about ten queries and a large template; reading whether it is
still true costs one. The key holds everything the section shows that can change:

- each form's changed_at (moved by every write of its records, reasons, objections, survey,
  and its student's attributes — in the writer's own transaction),
- its category's changed_at (moved by configuration: clearance.services.versions),
- the batch fields shown, by value, and the batch's service-window state (it turns by the clock),
- today's date (a pending step past its deadline says so: that turns at midnight),
- the settings and language that change the words.

So a page is never stale about states: the write that changes one makes its old key
unreachable when it commits. The key is read before the section is built, so a section is
never older than its key. The TTL (LIXIAO_PAGE_CACHE_SECONDS) only bounds how old the
clock-driven words may look: when a source last delivered data, and "数据已过期".
The key starts with the user's id, and only the forms of that user go into it.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from lixiao.portal import pages

# Bump when the section's template or context changes shape, so that a shared cache (Redis)
# never serves a fragment rendered by the previous release.
LAYOUT = 4
log = logging.getLogger(__name__)


def key(user, forms: list, now=None) -> str:
    """`forms`: the user's forms as read by pages.student_forms (with batch and category)."""
    now = now or timezone.now()
    parts: list = [
        LAYOUT,
        settings.LIXIAO_SHOW_HANDLER_NAMES,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate(now).isoformat(),
    ]
    for form in forms:
        batch = form.batch
        category = batch.category
        parts.append((
            form.id, form.changed_at.isoformat(),
            category.id, category.changed_at.isoformat(),
            batch.id, batch.name, batch.academic_year, batch.opens_at.isoformat(),
            batch.closes_at.isoformat(), batch.enabled, batch.window_state(now),
        ))  # fmt: skip
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"portal:me:{user.pk}:{digest}"


def forms_section(user, forms: list) -> str:
    """The section's HTML: from the cache when its key still holds, else built and stored.

    It holds no CSRF token and nothing of the request: the section has links, no POST forms.
    """
    cache_key = key(user, forms)
    html = _get(cache_key)
    if html is None:
        # The forms' own rows are the ones the key was made from; everything else is read
        # after them, so the section is never older than its key.
        html = str(
            render_to_string("portal/_forms.html", {"forms": pages.student_page(user, forms)})
        )
        _set(cache_key, html)
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when rendered


# The cache only saves work: a shared cache (Redis) that is down must not take the page down.
def _get(cache_key: str) -> str | None:
    try:
        return cache.get(cache_key)
    except Exception:
        log.warning("page cache unreachable, building the page", exc_info=True)
        return None


def _set(cache_key: str, html: str) -> None:
    try:
        cache.set(cache_key, html, settings.LIXIAO_PAGE_CACHE_SECONDS)
    except Exception:
        log.warning("page cache unreachable, page not stored", exc_info=True)
