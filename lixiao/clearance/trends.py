"""A batch over time, for the office: the daily tallies read back, each step's and college's
forecast (lixiao.clearance.forecast), burn-down series, and the version of what they show.

Everything here reads the maintained tallies (StepTally, FormTally and their daily rows): a
few hundred small rows whatever the number of students, never the events or the records.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from lixiao.clearance import forecast, scope
from lixiao.clearance.models import Batch, DailyFormTally, DailyStepTally, Form


def first_day(batch: Batch) -> date:
    return timezone.localdate(batch.opens_at)


def last_day(batch: Batch) -> date:
    """The batch's last service day: a window closing at 00:00 ends the day before."""
    return timezone.localdate(batch.closes_at - timedelta(microseconds=1))


@dataclass
class Outlook:
    """Forecasts of one batch on one day, and the daily series they came from."""

    today: date
    first: date  # the batch's first day
    last: date  # its last service day
    overall: forecast.Projection
    steps: dict[int, forecast.Projection]  # step id → projection of its applicable records
    colleges: dict[int, forecast.Projection]  # college id → projection of its forms
    # day → net change, per subject: ("batch", 0), ("step", id), ("college", id)
    scope_days: dict[tuple, dict[date, int]] = field(default_factory=dict)
    done_days: dict[tuple, dict[date, int]] = field(default_factory=dict)

    def lagging(self) -> tuple[list[int], list[int]]:
        """The step ids and college ids that will miss (or have missed) their target."""
        return (
            [sid for sid, p in self.steps.items() if p.flagged],
            [cid for cid, p in self.colleges.items() if p.flagged],
        )

    def projection(self, subject: tuple) -> forecast.Projection | None:
        kind, ident = subject
        if kind == "batch":
            return self.overall
        return (self.steps if kind == "step" else self.colleges).get(ident)

    def burndown(self, subject: tuple) -> list[tuple[date, int]]:
        """Remaining at the end of each day since the first day (or the first tally, if
        earlier: a roster imported before the window opened), up to today."""
        projection = self.projection(subject)
        if projection is None:
            return []
        done = self.done_days.get(subject, {})
        added = self.scope_days.get(subject, {})
        days = [d for d in (*done, *added) if d <= self.today]
        first = min([self.first, *days]) if days else self.first
        if first > self.today:
            return []
        return forecast.burndown(
            projection.total,
            projection.total - projection.remaining,
            added,
            done,
            first,
            self.today,
        )


def _office(reach: scope.Reach) -> None:
    if reach is None or not reach.office:
        # Whole-batch tallies have no per-grant split: only the office reads them.
        raise PermissionError("the batch's daily tallies are the office's to read")


def outlook(reach: scope.Reach, stats, colleges: list[dict], today: date | None = None) -> Outlook:
    """Forecasts from the counts already read (queries.step_statistics(reach) and
    queries.college_statistics) and the daily tallies (two queries)."""
    _office(reach)
    batch = reach.batch
    today = today or timezone.localdate()
    first, last = first_day(batch), last_day(batch)
    scope_days: dict[tuple, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    done_days: dict[tuple, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for step_id, day, applicable, passed in DailyStepTally.objects.filter(batch=batch).values_list(
        "step_id", "day", "applicable", "passed"
    ):
        scope_days[("step", step_id)][day] += applicable
        done_days[("step", step_id)][day] += passed
    for college_id, day, forms, completed in DailyFormTally.objects.filter(batch=batch).values_list(
        "college_id", "day", "forms", "completed"
    ):
        scope_days[("college", college_id)][day] += forms
        done_days[("college", college_id)][day] += completed
        scope_days[("batch", 0)][day] += forms
        done_days[("batch", 0)][day] += completed

    def project(subject, total, remaining, target):
        # The pace counts from the batch's first day, or from the day this count had anything
        # to do if that came later (a roster imported days after the window opened).
        arrived = [day for day, n in scope_days.get(subject, {}).items() if n > 0]
        since = max(first, min(arrived)) if arrived else first
        return forecast.project(total, remaining, done_days.get(subject, {}), today, since, target)

    steps = {
        s.step.id: project(
            ("step", s.step.id),
            s.applicable,
            s.pending,
            forecast.earliest(s.step.deadline, last),
        )
        for s in stats
    }
    by_college = {
        c["college_id"]: project(
            ("college", c["college_id"]), c["total"], c["total"] - c["done"], last
        )
        for c in colleges
    }
    total = sum(c["total"] for c in colleges)
    done = sum(c["done"] for c in colleges)
    overall = project(("batch", 0), total, total - done, last)
    return Outlook(today, first, last, overall, steps, by_college, scope_days, done_days)


def version(reach: scope.Reach, waiting: int = 20) -> tuple:
    """What the batch's tallies have been through, in one small query: (records written, forms,
    forms completed) summed over the daily rows, and the latest change among the `waiting`
    unfinished forms waiting longest.

    Every write of records adds to `writes` (never taken back), so a page built from the tallies
    is current while this is unchanged; forms and completions cover the writes that change no
    record (a roster of a category without steps; completion recomputed after a rule change,
    which also moves the category's changed_at). The longest-waiting forms' changed_at moves
    with their students' names and attributes. Plain SQL: this runs on every request of a
    cached page, where compiling the ORM's subqueries would cost more than running them.
    """
    _office(reach)
    qn = connection.ops.quote_name
    steps, forms = qn(DailyStepTally._meta.db_table), qn(DailyFormTally._meta.db_table)
    form = qn(Form._meta.db_table)
    sql = (
        f"SELECT (SELECT COALESCE(SUM(writes), 0) FROM {steps} WHERE batch_id = %s),"
        f" (SELECT COALESCE(SUM(forms), 0) FROM {forms} WHERE batch_id = %s),"
        f" (SELECT COALESCE(SUM(completed), 0) FROM {forms} WHERE batch_id = %s),"
        f" (SELECT MAX(changed_at) FROM (SELECT changed_at FROM {form} WHERE batch_id = %s"
        f" AND completed_at IS NULL ORDER BY created_at, id LIMIT %s) AS waiting)"
    )
    batch_id = reach.batch.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [batch_id, batch_id, batch_id, batch_id, waiting])
        return tuple(cursor.fetchone())
