"""The completion forecast's pure rules: pace, finish day, status and burn-down, by property and
by example."""

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from lixiao.clearance import forecast

TODAY = date(2026, 6, 15)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


history = st.dictionaries(
    st.integers(min_value=-3, max_value=20).map(days_ago), st.integers(-5, 60), max_size=25
)


# ---------------------------------------------------------------------------------------------
# examples with a known answer


def test_constant_pace_reaches_zero_on_the_day_the_arithmetic_says():
    daily = {days_ago(n): 10 for n in range(1, 8)}
    # 95 left at 10 a day, today counting as a working day: days 1..10, the last on day 10.
    p = forecast.project(200, 95, daily, TODAY, days_ago(30), target=TODAY + timedelta(days=12))
    assert p.pace == 10 and p.finish == TODAY + timedelta(days=9)
    assert p.status == forecast.ON_TRACK and not p.flagged
    late = forecast.project(200, 95, daily, TODAY, days_ago(30), target=TODAY + timedelta(days=8))
    assert late.status == forecast.LATE and late.flagged
    assert late.needed(TODAY) == 11  # 95 over the 9 days left, today included


def test_work_already_done_today_counts_towards_today():
    daily = {**{days_ago(n): 10 for n in range(1, 8)}, TODAY: 4}
    # Today should bring 10; 4 came already, so 6 more today and 10 a day after: 20 → day 2.
    assert forecast.finish_day(20, Fraction(10), TODAY, done_today=4) == TODAY + timedelta(days=2)
    assert forecast.project(50, 20, daily, TODAY, days_ago(30), None).finish == TODAY + timedelta(
        days=2
    )
    # A busy morning beyond the pace leaves nothing more expected today.
    assert forecast.finish_day(5, Fraction(10), TODAY, done_today=12) == TODAY + timedelta(days=1)


def test_the_pace_covers_the_last_week_or_the_days_since_opening():
    daily = {days_ago(9): 100, days_ago(3): 14, days_ago(1): 7, TODAY: 50}
    assert forecast.pace(daily, TODAY, days_ago(30)) == Fraction(21, 7)  # today and day 9 left out
    assert forecast.pace(daily, TODAY, days_ago(2)) == Fraction(7, 2)  # opened two days ago
    assert forecast.pace(daily, TODAY, TODAY) is None  # no full day yet
    assert forecast.pace(daily, TODAY, TODAY + timedelta(days=3)) is None  # not open yet


def test_statuses():
    week = {days_ago(n): 3 for n in range(1, 8)}
    opened = days_ago(20)
    assert forecast.project(10, 0, {}, TODAY, opened, days_ago(2)).status == forecast.DONE
    assert forecast.project(10, 4, week, TODAY, opened, days_ago(1)).status == forecast.OVERDUE
    assert forecast.project(10, 4, {}, TODAY, opened, None).status == forecast.STALLED
    assert forecast.project(10, 4, {}, TODAY, TODAY, None).status == forecast.UNKNOWN
    revoked = {days_ago(2): 5, days_ago(1): -9}  # more revoked than passed: no progress
    assert forecast.project(10, 4, revoked, TODAY, days_ago(2), None).status == forecast.STALLED
    # Due today and expected today: on track; the target day itself is still in time.
    assert forecast.project(10, 2, week, TODAY, opened, TODAY).status == forecast.ON_TRACK


def test_a_trickle_too_slow_for_ten_years_is_no_finish():
    assert forecast.finish_day(10**7, Fraction(1, 7), TODAY) is None


def test_burndown_counts_students_only_from_the_day_they_arrived():
    # 100 enrolled on day 5 ago, 50 more 2 days ago; 10 done each of the last 3 days.
    scope = {days_ago(5): 100, days_ago(2): 50}
    done = {days_ago(2): 10, days_ago(1): 10, TODAY: 10}
    series = forecast.burndown(150, 30, scope, done, days_ago(6), TODAY)
    assert series == [
        (days_ago(6), 0),
        (days_ago(5), 100),
        (days_ago(4), 100),
        (days_ago(3), 100),
        (days_ago(2), 140),
        (days_ago(1), 130),
        (TODAY, 120),
    ]


# ---------------------------------------------------------------------------------------------
# properties


def _later(a, b) -> bool:
    """a is no earlier than b, None meaning never."""
    if a is None:
        return True
    return b is not None and a >= b


@given(
    remaining=st.integers(0, 3000),
    rate=st.fractions(min_value=1, max_value=500, max_denominator=7),
    done_today=st.integers(-20, 600),
)
def test_finish_is_the_first_day_the_expected_work_covers_what_remains(remaining, rate, done_today):
    """Counted the long way: by the end of day n (0 = today) the pace has brought
    max(rate, done today) + n × rate in all, of which what today already brought is not in
    `remaining`; the finish is the first day that covers it."""
    finish = forecast.finish_day(remaining, rate, TODAY, done_today)
    n = 0
    while max(rate, done_today) - done_today + rate * n < remaining:
        n += 1
    assert finish == TODAY + timedelta(days=n)


@given(
    remaining=st.integers(0, 2000),
    more=st.integers(0, 200),
    daily=history,
    faster=st.integers(0, 50),
)
def test_more_remaining_never_finishes_sooner_and_a_faster_week_never_later(
    remaining, more, daily, faster
):
    opened = days_ago(30)
    base = forecast.project(5000, remaining, daily, TODAY, opened, None)
    assert _later(
        forecast.project(5000, remaining + more, daily, TODAY, opened, None).finish, base.finish
    )
    quicker = {
        d: n + faster if TODAY - timedelta(days=7) <= d < TODAY else n for d, n in daily.items()
    }
    for d in (days_ago(n) for n in range(1, 8)):
        quicker.setdefault(d, faster)
    assert _later(
        base.finish, forecast.project(5000, remaining, quicker, TODAY, opened, None).finish
    )


@given(
    remaining=st.integers(0, 500),
    daily=history,
    opened_ago=st.integers(-2, 30),
    target_in=st.none() | st.integers(-5, 40),
)
def test_flagged_exactly_when_the_target_is_missed(remaining, daily, opened_ago, target_in):
    target = None if target_in is None else TODAY + timedelta(days=target_in)
    p = forecast.project(1000, remaining, daily, TODAY, days_ago(opened_ago), target)
    if remaining == 0:
        assert p.status == forecast.DONE and not p.flagged
    elif target is not None and target < TODAY:
        assert p.status == forecast.OVERDUE and p.flagged
    elif p.pace is None:
        assert p.status == forecast.UNKNOWN and not p.flagged
    else:
        misses = p.finish is None or (target is not None and p.finish > target)
        assert p.flagged == misses
        assert (p.finish is None) == (p.status == forecast.STALLED)


@given(
    st.lists(st.tuples(st.integers(0, 80), st.integers(-10, 40)), min_size=1, max_size=30),
)
def test_burndown_replays_a_history_built_forward(changes):
    """Built day by day (students arrive, some finish, a few are reopened), the burn-down read
    back from today's counts and the daily changes gives every day's remaining."""
    first = TODAY - timedelta(days=len(changes) - 1)
    total = done = 0
    forward, scope, finished = [], {}, {}
    for i, (arrive, finish) in enumerate(changes):
        day = first + timedelta(days=i)
        finish = max(-done, min(finish, total + arrive - done))  # never below 0 or above total
        total, done = total + arrive, done + finish
        scope[day], finished[day] = arrive, finish
        forward.append((day, total - done))
    assert forecast.burndown(total, done, scope, finished, first, TODAY) == forward
