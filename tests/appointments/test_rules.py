"""Opening hours, slots and bookable days: what people type is read, the slots fit the hours."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lixiao.appointments import rules


def test_periods_are_read_the_way_people_write_them():
    assert rules.parse_periods("8:30-11:30, 14:00-17:00") == [
        (time(8, 30), time(11, 30)),
        (time(14), time(17)),
    ]
    assert rules.parse_periods("14:00～17:00；8:30 至 11:30") == [
        (time(8, 30), time(11, 30)),
        (time(14), time(17)),
    ]
    assert rules.parse_periods("9：00 — 12：00") == [(time(9), time(12))]
    assert rules.parse_periods("") == [] and rules.parse_periods("  ") == []


@pytest.mark.parametrize(
    "text, says",
    [
        ("8:30", "不是一个时段"),
        ("8-11", "无法识别"),
        ("25:00-26:00", "无法识别"),
        ("11:30-8:30", "晚于开始时间"),
        ("8:00-12:00, 11:00-14:00", "重叠"),
    ],
)
def test_a_period_that_cannot_be_read_is_refused_with_what_to_fix(text, says):
    with pytest.raises(rules.PlanError, match=says):
        rules.parse_periods(text)


def test_dates_are_read_in_the_usual_forms():
    assert rules.parse_dates("2026-06-20, 2026/6/21\n2026年6月22日 2026-06-20") == [
        date(2026, 6, 20),
        date(2026, 6, 21),
        date(2026, 6, 22),
    ]
    with pytest.raises(rules.PlanError, match="2026-13-01"):
        rules.parse_dates("2026-13-01")
    with pytest.raises(rules.PlanError, match="明天"):
        rules.parse_dates("明天")


def test_slots_start_at_each_period_and_end_inside_it():
    periods = [(time(8, 30), time(11, 30)), (time(14), time(15, 10))]
    assert rules.cut(periods, 45) == [
        (time(8, 30), time(9, 15)),
        (time(9, 15), time(10)),
        (time(10), time(10, 45)),
        (time(10, 45), time(11, 30)),
        (time(14), time(14, 45)),  # 14:45–15:30 would end after 15:10
    ]


def test_bookable_days_skip_closed_dates_and_weekdays_without_hours():
    weekdays = ((time(9), time(12)),)
    schedule = rules.Schedule(
        hours=(weekdays,) * 5 + ((), ()),
        slot_minutes=30,
        closed=frozenset({date(2026, 6, 17)}),
        days_ahead=7,
    )
    monday = date(2026, 6, 15)
    days = schedule.days(monday, monday - timedelta(days=30), monday + timedelta(days=30))
    assert days == [date(2026, 6, d) for d in (15, 16, 18, 19, 22)]
    # Not before the batch opens, not after it closes.
    assert schedule.days(monday, date(2026, 6, 18), date(2026, 6, 19)) == [
        date(2026, 6, 18),
        date(2026, 6, 19),
    ]
    assert schedule.slots_on(date(2026, 6, 17)) == []


times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 10, 15, 20, 30, 45]))


@st.composite
def period_lists(draw):
    marks = sorted(set(draw(st.lists(times, min_size=0, max_size=8))))
    if len(marks) % 2:
        marks = marks[:-1]
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks), 2)]


@given(period_lists(), st.integers(rules.MIN_SLOT_MINUTES, rules.MAX_SLOT_MINUTES))
def test_every_slot_lies_inside_one_period_has_the_length_and_none_overlap(periods, minutes):
    slots = rules.cut(periods, minutes)
    length = timedelta(minutes=minutes)
    for start, end in slots:
        assert any(s <= start and end <= e for s, e in periods)
        day = date(2000, 1, 1)
        assert datetime.combine(day, end) - datetime.combine(day, start) == length
    assert slots == sorted(slots)
    for (_s1, e1), (s2, _e2) in zip(slots, slots[1:], strict=False):
        assert e1 <= s2
    # Written out and read back, the hours are the same.
    assert rules.parse_periods(rules.format_periods(periods)) == periods


@given(
    st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20),
    st.integers(0, rules.MAX_DAYS_AHEAD),
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
)
def test_bookable_days_are_open_within_the_horizon_and_never_closed(closed, ahead, today):
    schedule = rules.Schedule(
        hours=(((time(9), time(10)),),) * 7,
        slot_minutes=30,
        closed=frozenset(closed),
        days_ahead=ahead,
    )
    days = schedule.days(today, date(2026, 1, 1), date(2026, 12, 31))
    for day in days:
        assert today <= day <= today + timedelta(days=ahead)
        assert day not in closed and schedule.slots_on(day)
    horizon = [today + timedelta(days=i) for i in range(ahead + 1)]
    expected = [d for d in horizon if d not in closed and d.year == 2026]
    assert days == expected


def test_weekdays_with_the_same_hours_read_as_one_range():
    morning = [(time(8, 30), time(11, 30))]
    hours = [morning] * 5 + [[(time(9), time(12))], []]
    assert rules.group_weekdays(hours) == [(0, 4, morning), (5, 5, [(time(9), time(12))])]
    assert rules.group_weekdays([[]] * 7) == []
    split = [morning, [], morning, morning, [], [], morning]
    assert [(a, b) for a, b, _p in rules.group_weekdays(split)] == [(0, 0), (2, 3), (6, 6)]
