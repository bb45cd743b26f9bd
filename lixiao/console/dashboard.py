"""The follow-up page's data (progress, forecasts, charts, longest waiting) and its cached section.

Building the section reads only maintained tallies and twenty forms, but renders a large
table; reading whether a built one is still true costs one small query. Its key holds
everything the section shows that can change:

- what the batch's tallies have been through (trends.version: records written, forms and
  completions — moved by the writer in its own transaction),
- the category's changed_at (steps, deadlines, places and the completion rule: moved by
  configuration through clearance.services.versions, and by a rebuild of the daily tallies),
- the batch's fields, by value,
- the latest changed_at of the longest-waiting forms (a student's name or attributes move it;
  which forms those are changes only with completions and enrolments, counted above),
- today's date (forecasts count from today), the language and time zone, the chart's subject.

So the section is never stale: a write that changes what it shows changes its key when it
commits, and the key is read before the section is built. One slot per batch, language and
chart subject holds the latest build (a new build replaces it), so a busy day of writes
never piles up old copies. The section holds no CSRF token and nothing of the request.
"""

import hashlib
import logging
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lixiao.clearance import queries, scope, trends
from lixiao.clearance.models import FormTally, Record, State, StepTally
from lixiao.console import charts

LONGEST = 20
# Bump when the section's template or context changes shape, so that a shared cache (Redis)
# never serves a section rendered by the previous release.
LAYOUT = 1
BATCH = ("batch", 0)
log = logging.getLogger(__name__)


def subject(reach: scope.Reach, raw: str) -> tuple[str, int]:
    """The burn-down's subject from the query string: a step of the batch, a college on its
    roster, or (anything else) the whole batch."""
    kind, _sep, ident = (raw or "").partition(":")
    if not ident.isdigit():
        return BATCH
    if kind == "step" and reach.step(ident) is not None:
        return ("step", int(ident))
    if kind == "college" and FormTally.objects.filter(batch=reach.batch, college_id=ident).exists():
        return ("college", int(ident))
    return BATCH


def longest(reach: scope.Reach):
    """The unfinished forms waiting longest (the partial index form_unfinished_by_age)."""
    return reach.forms().filter(completed_at__isnull=True).order_by("created_at", "id")[:LONGEST]


def dashboard(reach: scope.Reach, chart_subject: tuple = BATCH, today=None) -> dict:
    """Everything the section and the export show, in a fixed number of queries."""
    batch, steps = reach.batch, reach.steps
    today = today or timezone.localdate()
    stats = queries.step_statistics(reach)
    colleges = queries.college_statistics(batch)
    look = trends.outlook(reach, stats, colleges, today)
    pending = defaultdict(dict)  # college id → step id → pending
    for college_id, step_id, n in StepTally.objects.filter(batch=batch).values_list(
        "college_id", "step_id", "pending"
    ):
        pending[college_id][step_id] = n
    lagging_steps, lagging_colleges = look.lagging()
    step_rows = [
        {
            "s": s,
            "p": look.steps[s.step.id],
            "needed": look.steps[s.step.id].needed(today),
            "lagging": s.step.id in lagging_steps,
        }
        for s in stats
    ]
    for c in colleges:
        c["percent"] = round(100 * c["done"] / c["total"], 1) if c["total"] else 0.0
        c["pending"] = [pending[c["college_id"]].get(s.id, 0) for s in steps]
        c["p"] = look.colleges[c["college_id"]]
        c["needed"] = c["p"].needed(today)
        c["lagging"] = c["college_id"] in lagging_colleges
    total = sum(c["total"] for c in colleges)
    done = sum(c["done"] for c in colleges)
    completions = look.done_days.get(BATCH, {})
    daily = sorted((d, n) for d, n in completions.items() if n and d <= today)
    waiting = (
        longest(reach)
        .select_related("student", "college")
        .prefetch_related(
            Prefetch(
                "records",
                to_attr="pending_records",
                queryset=Record.objects.filter(state=State.PENDING)
                .select_related("step")
                .order_by("step__order", "step_id"),
            )
        )
    )
    return {
        "batch": batch,
        "today": today,
        "steps": steps,
        "stats": stats,
        "step_rows": step_rows,
        "colleges": colleges,
        "total": total,
        "done": done,
        "percent": round(100 * done / total, 1) if total else 0.0,
        "overall": look.overall,
        "overall_needed": look.overall.needed(today),
        "outlook": look,
        "lagging": len(lagging_steps) + len(lagging_colleges),
        "slowest": sorted(
            (s for s in stats if s.applicable), key=lambda s: (s.percent, -s.pending)
        )[:5],
        "daily": daily,
        # Safe: numbers and escaped text only, assembled in lixiao.console.charts.
        "chart": mark_safe(charts.daily_chart(daily)),  # noqa: S308
        "longest": list(waiting),
        **_burndown(look, chart_subject, stats, colleges, today),
    }


def _burndown(look: trends.Outlook, chart_subject, stats, colleges, today) -> dict:
    projection = look.projection(chart_subject)
    if projection is None:  # a college no longer on the roster: the whole batch instead
        chart_subject, projection = BATCH, look.overall
    kind, ident = chart_subject
    if kind == "step":
        step = next(s.step for s in stats if s.step.id == ident)
        name = step.title
        deadline = step.deadline is not None and step.deadline == projection.target
        target = pgettext("step deadline", "截止日期") if deadline else _("批次结束")
    elif kind == "college":
        name = next(c["college__name"] for c in colleges if c["college_id"] == ident)
        target = _("批次结束")
    else:
        name, target = _("全批次"), _("批次结束")
    series = look.burndown(chart_subject)
    return {
        "chart_subject": f"{kind}:{ident}",
        "chart_steps": [(f"step:{s.step.id}", s.step.title) for s in stats],
        "chart_colleges": [(f"college:{c['college_id']}", c["college__name"]) for c in colleges],
        "chart_name": name,
        "chart_projection": projection,
        "chart_series": series,
        # Safe: numbers and escaped text only, assembled in lixiao.console.charts.
        "burndown": mark_safe(charts.burndown_chart(series, projection, today, target)),  # noqa: S308
    }


def key(reach: scope.Reach, chart_subject: tuple, now=None) -> tuple[str, str]:
    """(the cache slot, the digest of everything the section shows) — see the module."""
    now = now or timezone.now()
    batch = reach.batch
    category = batch.category
    language = translation.get_language()
    parts = [
        LAYOUT,
        language,
        timezone.get_current_timezone_name(),
        timezone.localdate(now).isoformat(),
        chart_subject,
        (batch.id, batch.name, batch.opens_at.isoformat(), batch.closes_at.isoformat()),
        batch.archived_at,  # an archived batch's section offers no reminders
        (category.id, category.changed_at.isoformat(), category.completion_rule),
        trends.version(reach),
        [
            (fid, changed.isoformat())
            for fid, changed in longest(reach).values_list("id", "changed_at")
        ],
    ]
    slot = f"console:supervision:{batch.id}:{language}:{chart_subject[0]}:{chart_subject[1]}"
    return slot, hashlib.sha256(repr(parts).encode()).hexdigest()


def section(reach: scope.Reach, chart_subject: tuple = BATCH) -> str:
    """The section's HTML: from the cache while its key holds, else built and stored."""
    slot, digest = key(reach, chart_subject)
    kept = _get(slot)
    if kept is not None and kept[0] == digest:
        return mark_safe(kept[1])  # noqa: S308 - our own template's output, escaped when rendered
    html = str(
        render_to_string("console/supervision/_section.html", dashboard(reach, chart_subject))
    )
    _set(slot, (digest, html))
    return mark_safe(html)  # noqa: S308 - as above


# The cache only saves work: a shared cache (Redis) that is down must not take the page down.
def _get(slot: str):
    try:
        return cache.get(slot)
    except Exception:
        log.warning("page cache unreachable, building the follow-up page", exc_info=True)
        return None


def _set(slot: str, value) -> None:
    try:
        cache.set(slot, value, settings.LIXIAO_PAGE_CACHE_SECONDS)
    except Exception:
        log.warning("page cache unreachable, follow-up page not stored", exc_info=True)
