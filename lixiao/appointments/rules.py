"""Pure rules of appointments (预约办理): opening hours, the slots of a day, the days one may book. No I/O.

A plan's schedule is its opening hours per weekday (periods such as 08:30–11:30), the slot length,
its closed dates and how many days ahead students may book. The slots of a day are cut from each
period from its start, every `slot_minutes`, keeping only those that end inside the period.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext as _

Period = tuple[time, time]

MIN_SLOT_MINUTES, MAX_SLOT_MINUTES = 5, 240
MIN_CAPACITY, MAX_CAPACITY = 1, 200
MAX_DAYS_AHEAD = 60
MAX_CLOSED_DATES = 366

# What people type between two times of a period, and between periods or dates.
_RANGE = re.compile(r"\s*(?:-|–|—|－|~|～|〜|至|到)\s*")
_LIST = re.compile(r"[\s,，;；、]+")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class PlanError(ValueError):
    """Settings that cannot make a schedule; the message says what to fix."""


def _time(text: str) -> time:
    match = _TIME.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise PlanError(_("时间“%(text)s”无法识别，请写成 8:30 这样的时:分") % {"text": text})


def parse_periods(text: str) -> list[Period]:
    """'8:30-11:30, 14:00-17:00' → [(08:30, 11:30), (14:00, 17:00)]; empty → [] (closed).

    Periods must not be reversed or overlap; they are returned in time order.
    """
    periods: list[Period] = []
    text = (text or "").strip()
    # A range separator may be surrounded by spaces ("8:30 - 11:30"): join those first.
    for part in _LIST.split(_RANGE.sub("-", text)):
        if not part:
            continue
        pieces = part.split("-")
        if len(pieces) != 2:
            raise PlanError(
                _("“%(text)s”不是一个时段，请写成 8:30-11:30，多个时段用逗号分隔") % {"text": part}
            )
        start, end = _time(pieces[0]), _time(pieces[1])
        if end <= start:
            raise PlanError(_("时段“%(text)s”的结束时间应晚于开始时间") % {"text": part})
        periods.append((start, end))
    periods.sort()
    for (_s1, end1), (start2, _e2) in zip(periods, periods[1:], strict=False):
        if start2 < end1:
            raise PlanError(
                _("时段 %(a)s 与 %(b)s 重叠") % {"a": format_time(start2), "b": format_time(end1)}
            )
    return periods


def format_time(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def format_periods(periods: Iterable[Period]) -> str:
    return ", ".join(f"{format_time(s)}-{format_time(e)}" for s, e in periods)


def group_weekdays(hours: Sequence[Sequence[Period]]) -> list[tuple[int, int, list[Period]]]:
    """Consecutive weekdays with the same hours, as (first, last, periods); closed days left out.
    Monday–Friday 8:30-11:30 reads better than five lines."""
    groups: list[tuple[int, int, list[Period]]] = []
    for index, periods in enumerate(hours):
        periods = list(periods)
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == periods:
            groups[-1] = (groups[-1][0], index, periods)
        else:
            groups.append((index, index, periods))
    return [g for g in groups if g[2]]


def parse_dates(text: str) -> list[date]:
    """Closed dates: 2026-06-20 (also 2026/6/20, 2026年6月20日) separated by commas or new lines."""
    found: set[date] = set()
    for part in _LIST.split((text or "").strip()):
        if not part:
            continue
        match = _DATE.match(part)
        try:
            if not match:
                raise ValueError
            found.add(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            raise PlanError(
                _("日期“%(text)s”无法识别，请写成 2026-06-20，多个日期用逗号或换行分隔")
                % {"text": part}
            ) from None
    if len(found) > MAX_CLOSED_DATES:
        raise PlanError(_("不开放日期最多 %(n)s 个") % {"n": MAX_CLOSED_DATES})
    return sorted(found)


def cut(periods: Sequence[Period], minutes: int) -> list[Period]:
    """The slots of these periods: from each period's start, every `minutes`, ending inside it."""
    slots: list[Period] = []
    step = timedelta(minutes=minutes)
    for start, end in periods:
        at = datetime.combine(date.min, start)
        stop = datetime.combine(date.min, end)
        while at + step <= stop:
            slots.append((at.time(), (at + step).time()))
            at += step
    return slots


@dataclass(frozen=True)
class Schedule:
    """A plan's settings as the rules read them."""

    hours: tuple[tuple[Period, ...], ...]  # seven weekdays, Monday first
    slot_minutes: int
    closed: frozenset[date]
    days_ahead: int

    def slots_on(self, day: date) -> list[Period]:
        """The slots of one day: none on a closed date."""
        if day in self.closed:
            return []
        return cut(self.hours[day.weekday()], self.slot_minutes)

    def days(self, today: date, first: date, last: date) -> list[date]:
        """The days students may book now: from today (or the first day of service) to
        `days_ahead` days after today (or the last day of service), with at least one slot."""
        start = max(today, first)
        end = min(today + timedelta(days=self.days_ahead), last)
        days = []
        while start <= end:
            if self.slots_on(start):
                days.append(start)
            start += timedelta(days=1)
        return days


def check_settings(slot_minutes: int, capacity: int, days_ahead: int, hours) -> None:
    """Numbers inside their bounds, and at least one slot in the week (else nobody could book)."""
    if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
        raise PlanError(
            _("每个时段应为 %(lo)s–%(hi)s 分钟") % {"lo": MIN_SLOT_MINUTES, "hi": MAX_SLOT_MINUTES}
        )
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise PlanError(
            _("每个时段可约人数应为 %(lo)s–%(hi)s 人") % {"lo": MIN_CAPACITY, "hi": MAX_CAPACITY}
        )
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise PlanError(_("可提前预约天数应为 0–%(hi)s 天") % {"hi": MAX_DAYS_AHEAD})
    if len(hours) != 7:
        raise PlanError(_("开放时间应按周一至周日填写"))
    if not any(cut(periods, slot_minutes) for periods in hours):
        raise PlanError(
            _("按现在的开放时间和时段长度，一周内没有一个完整的时段：请加长开放时间或缩短时段")
        )
