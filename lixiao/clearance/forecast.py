"""Completion forecast, pure (no I/O): the pace of daily completions, the day a count reaches
100 % at that pace, whether that misses a target day, and the burn-down series.

Counts are whole things (students, records). A day is a local calendar day. "Today" is a
working day: it is expected to reach the average pace, and what was already done today counts
towards that, so work left over is spread over the days after it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

WINDOW = 7  # days of history the pace averages: a week, so a quiet weekend does not mislead
HORIZON = 3650  # days: a finish further away than ten years is no finish (and no date overflow)

DONE = "done"  # nothing remaining
ON_TRACK = "on_track"  # expected by the target day
LATE = "late"  # expected, but after the target day
STALLED = "stalled"  # no net progress over the window (or a finish beyond the horizon)
OVERDUE = "overdue"  # the target day has passed with some remaining
UNKNOWN = "unknown"  # not one full day of history yet (opened today, or not yet open)
FLAGGED = frozenset({LATE, STALLED, OVERDUE})


def pace(
    daily: Mapping[date, int], today: date, opened: date, window: int = WINDOW
) -> Fraction | None:
    """Average net completions per day over the last `window` full days before today.

    Days before `opened` (the batch's first day) are not part of the history; days without a
    row count as zero. None while there is no full day yet.
    """
    start = max(opened, today - timedelta(days=window))
    days = (today - start).days
    if days <= 0:
        return None
    return Fraction(sum(daily.get(start + timedelta(days=i), 0) for i in range(days)), days)


def finish_day(remaining: int, rate: Fraction | None, today: date, done_today: int = 0):
    """The day the last of `remaining` is expected at `rate` a day; None if never.

    Today is expected to bring `rate` in all, of which `done_today` already happened (and
    is no longer in `remaining`); the rest is spread over the following days.
    """
    if remaining <= 0:
        return today
    if rate is None or rate <= 0:
        return None
    left = remaining - max(rate - done_today, 0)
    if left <= 0:
        return today
    days = _ceil(left / rate)
    return today + timedelta(days=days) if days <= HORIZON else None


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


@dataclass(frozen=True)
class Projection:
    """Where one count (a step's applicable records, a college's forms) is heading."""

    total: int  # in scope now
    remaining: int
    pace: Fraction | None  # net completions a day over the window; None: no full day yet
    finish: date | None  # the day the last one is expected; None when it never is
    target: date | None  # the step's deadline or the batch's last day, whichever is first
    status: str

    @property
    def flagged(self) -> bool:
        """Will miss (or has missed) its target at the current pace."""
        return self.status in FLAGGED

    @property
    def percent(self) -> float:
        return round(100 * (self.total - self.remaining) / self.total, 1) if self.total else 100.0

    @property
    def per_day(self) -> float | None:
        return None if self.pace is None else float(self.pace)

    def needed(self, today: date) -> int | None:
        """Completions a day, from today to the target day inclusive, that would make it."""
        if self.remaining <= 0 or self.target is None or self.target < today:
            return None
        return _ceil(Fraction(self.remaining, (self.target - today).days + 1))


def project(
    total: int,
    remaining: int,
    daily: Mapping[date, int],
    today: date,
    opened: date,
    target: date | None,
    window: int = WINDOW,
) -> Projection:
    """The projection of one count from its daily net completions (`daily`, by day)."""
    rate = pace(daily, today, opened, window)
    finish = finish_day(remaining, rate, today, daily.get(today, 0))
    if remaining <= 0:
        status = DONE
    elif target is not None and target < today:
        status = OVERDUE
    elif rate is None:
        status = UNKNOWN
    elif finish is None:
        status = STALLED
    elif target is not None and finish > target:
        status = LATE
    else:
        status = ON_TRACK
    return Projection(total, remaining, rate, finish, target, status)


def earliest(*days: date | None) -> date | None:
    """The first of the days given (None ones ignored); None when none is given."""
    given = [d for d in days if d is not None]
    return min(given) if given else None


def burndown(
    total: int,
    done: int,
    daily_total: Mapping[date, int],
    daily_done: Mapping[date, int],
    first: date,
    today: date,
) -> list[tuple[date, int]]:
    """Remaining at the end of each day from `first` to `today`, oldest first.

    A past day's total and done are today's minus the net changes of the days after it, so
    students enrolled later are not counted as remaining before they arrived.
    """
    series = []
    day = today
    while day >= first:
        series.append((day, total - done))
        total -= daily_total.get(day, 0)
        done -= daily_done.get(day, 0)
        day -= timedelta(days=1)
    series.reverse()
    return series
