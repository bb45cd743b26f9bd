"""The daily tallies the writer keeps equal a recount from the audit trail, whatever happens,
and add up to the running tallies; the rebuild command puts them right."""

import random
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from lixiao.clearance import queries, services
from lixiao.clearance.models import (
    DailyFormTally,
    DailyStepTally,
    Event,
    Form,
    Record,
    State,
    Step,
)
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import Actor, Item, daily
from tests import factories as f

pytestmark = pytest.mark.django_db

DAYS = 6


def at_day(days_ago: int, hour: int = 9) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def sums_equal_running_tallies(batch) -> bool:
    """Σ over the days of each daily row equals the running tallies (StepTally, FormTally)."""
    steps, forms = queries.tallies(batch)
    applicable, passed = defaultdict(int), defaultdict(int)
    for (step_id, _college), counts in steps.items():
        applicable[step_id] += counts["pending"] + counts["passed"]
        passed[step_id] += counts["passed"]
    kept_steps, kept_forms = daily.stored(batch.id)
    day_applicable, day_passed = defaultdict(int), defaultdict(int)
    for (step_id, _day), counts in kept_steps.items():
        day_applicable[step_id] += counts["applicable"]
        day_passed[step_id] += counts["passed"]
    day_forms, day_done = defaultdict(int), defaultdict(int)
    for (college_id, _day), counts in kept_forms.items():
        day_forms[college_id] += counts["forms"]
        day_done[college_id] += counts["completed"]
    return (
        {k: v for k, v in applicable.items() if v} == {k: v for k, v in day_applicable.items() if v}
        and {k: v for k, v in passed.items() if v} == {k: v for k, v in day_passed.items() if v}
        and {c: n["forms"] for c, n in forms.items()} == {k: v for k, v in day_forms.items() if v}
        and {c: n["completed"] for c, n in forms.items() if n["completed"]}
        == {k: v for k, v in day_done.items() if v}
    )


@pytest.fixture
def week(uni):
    """A batch opened a week ago whose roster (12 students, 3 party members) came six days ago."""
    batch = f.batch(uni.category, name="2026届春季离校", opens_at=at_day(DAYS + 1))
    students = [
        f.student(
            f"20221{i:05d}",
            f"学生{i}",
            uni.cs if i % 3 else uni.lit,
            political="中共党员" if i % 4 == 0 else "群众",
        )
        for i in range(12)
    ]
    entries = [
        services.Enrolment(
            s.id,
            s.college_id,
            None,
            {"political_status": s.political_status, "student_type": s.student_type},
        )
        for s in students
    ]
    services.enrol(Actor.system("roster"), batch, entries, at=at_day(DAYS))
    return batch


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_days_of_work_keep_daily_tallies_equal_to_a_recount_of_the_events(uni, week, seed):
    rnd = random.Random(seed)
    steps = list(Step.objects.filter(category=uni.category).order_by("order"))
    forms = list(Form.objects.filter(batch=week).select_related("student"))
    office = Actor(uni.office, "admin")
    # Days in order, as the writer lives them: backdated bulk work on past days, then today
    # every kind of change (single records, syncs, changed attributes, a late enrolment).
    for days_ago in range(DAYS - 1, 0, -1):
        if days_ago in (4, 3, 2):
            # Some forms complete, two are reopened by a revoke the next day, and complete again.
            chosen = forms[:4] if days_ago == 4 else forms[:2]
            to_state = State.PENDING if days_ago == 3 else State.PASSED
            for step in steps if to_state == State.PASSED else steps[:1]:
                services.apply_many(
                    office,
                    week,
                    step,
                    [Item(fm.id, to_state) for fm in chosen],
                    at=at_day(days_ago, 7),
                )
        for k in range(rnd.randint(2, 6)):
            step = rnd.choice(steps)
            to_state = rnd.choice([State.PASSED] * 4 + [State.PENDING])
            chosen = [Item(rnd.choice(forms).id, to_state) for _ in range(rnd.randint(1, 6))]
            services.apply_many(office, week, step, chosen, at=at_day(days_ago, 8 + k))
        assert daily.stored(week.id) == daily.recount(week.id)
    for _ in range(40):
        kind = rnd.random()
        step = rnd.choice(steps)
        if kind < 0.5:
            record = Record.objects.get(form=rnd.choice(forms), step=step)
            to_state = rnd.choice([State.PASSED] * 3 + [State.PENDING])
            try:
                services.set_state(office, record.id, to_state)
            except Refused:
                pass
        elif kind < 0.75:
            step = rnd.choice([s for s in steps if s.automatic])
            step.precedence = rnd.choice(["source", "manual_wins"])
            services.apply_many(
                Actor.system("sync"),
                week,
                step,
                [Item(fm.id, rnd.choice([State.PASSED, State.PENDING])) for fm in forms],
            )
        elif kind < 0.95:
            student = rnd.choice(forms).student
            student.political_status = rnd.choice(["中共党员", "群众"])
            student.save(update_fields=["political_status"])
            services.reapply_conditions(Actor.system("roster"), week)
        else:
            late = f.enrolled(week, f"20229{len(forms):05d}", "补录同学", uni.lit)
            forms.append(Form.objects.select_related("student").get(pk=late.pk))
        assert daily.stored(week.id) == daily.recount(week.id)
    assert sums_equal_running_tallies(week)
    assert queries.tallies(week) == queries.recount(week)
    # The walk spread real work over the days, completions and reopenings among it.
    form_days = daily.stored(week.id)[1].values()
    assert any(c["completed"] > 0 for c in form_days) and any(c["completed"] < 0 for c in form_days)
    days = {day for (_step, day), c in daily.stored(week.id)[0].items() if c["passed"]}
    assert len(days) >= 4
    assert Event.objects.filter(batch=week, action="clearance.record.passed").count() > 20


def test_a_step_added_to_a_category_in_use_counts_its_records_on_the_day_it_came(uni, week):
    office = Actor(uni.office, "admin")
    forms = list(Form.objects.filter(batch=week).order_by("id"))
    for step in Step.objects.filter(category=uni.category).exclude(is_final=True):
        services.apply_many(
            office, week, step, [Item(fm.id, State.PASSED) for fm in forms[:4]], at=at_day(3)
        )
    final = Step.objects.get(category=uni.category, is_final=True)
    services.apply_many(
        office, week, final, [Item(fm.id, State.PASSED) for fm in forms[:4]], at=at_day(2)
    )
    assert Form.objects.filter(batch=week, completed_at__isnull=False).count() == 4
    services.create_step(
        office,
        uni.category,
        {"title": "档案馆", "owner_type": "college", "required": True, "order": 9},
    )
    archives = Step.objects.get(category=uni.category, title="档案馆")
    today = timezone.localdate()
    row = DailyStepTally.objects.get(batch=week, step=archives, day=today)
    assert (row.applicable, row.passed, row.writes) == (12, 0, 12)
    # The four forms completed two days ago were reopened today (a required step came).
    reopened = DailyFormTally.objects.filter(batch=week, day=today).values_list(
        "completed", flat=True
    )
    assert sum(reopened) == -4
    assert (
        sum(
            DailyFormTally.objects.filter(batch=week, day=at_day(2).date()).values_list(
                "completed", flat=True
            )
        )
        == 4
    )
    assert daily.stored(week.id) == daily.recount(week.id)
    assert sums_equal_running_tallies(week)


def test_rebuild_puts_lost_or_wrong_rows_right_audits_and_dry_run_changes_nothing(uni, week):
    office = Actor(uni.office, "admin")
    forms = list(Form.objects.filter(batch=week))
    for days_ago, step in zip((4, 2, 1), Step.objects.filter(category=uni.category), strict=False):
        services.apply_many(
            office, week, step, [Item(fm.id, State.PASSED) for fm in forms[:5]], at=at_day(days_ago)
        )
    kept = daily.stored(week.id)
    DailyStepTally.objects.filter(batch=week).order_by("id").first().delete()
    DailyFormTally.objects.filter(batch=week).update(forms=99)

    call_command("rebuild_daily_tallies", "--batch", str(week.id), "--dry-run")
    assert daily.stored(week.id) != kept
    assert not Event.objects.filter(action="clearance.tallies.rebuilt").exists()

    before = week.category.changed_at
    call_command("rebuild_daily_tallies", "--batch", str(week.id))
    assert daily.stored(week.id) == kept
    event = Event.objects.get(action="clearance.tallies.rebuilt", batch=week)
    assert event.data["step_rows"] == 1 and event.data["form_rows"] >= 1
    week.category.refresh_from_db()
    assert week.category.changed_at > before  # pages keyed by the old tallies are dropped


def test_rebuild_is_the_office_s(uni, week):
    with pytest.raises(services.Forbidden):
        services.rebuild_daily_tallies(Actor(uni.library, "desk"), week)


def test_the_migration_fill_recounts_every_batch(uni, week):
    office = Actor(uni.office, "admin")
    step = Step.objects.get(category=uni.category, title="学生公寓")
    services.apply_many(
        office, week, step, [Item(fm.id, State.PASSED) for fm in Form.objects.filter(batch=week)]
    )
    kept = {b.id: daily.stored(b.id) for b in (uni.batch, week)}
    DailyStepTally.objects.all().delete()
    DailyFormTally.objects.all().delete()
    daily.fill()
    assert {b.id: daily.stored(b.id) for b in (uni.batch, week)} == kept


def test_a_change_of_completion_rule_keeps_the_sums_true(uni, week):
    office = Actor(uni.office, "admin")
    forms = list(Form.objects.filter(batch=week))
    for step in Step.objects.filter(category=uni.category, required=True, is_final=False):
        services.apply_many(office, week, step, [Item(fm.id, State.PASSED) for fm in forms])
    final = Step.objects.get(category=uni.category, is_final=True)
    services.apply_many(office, week, final, [Item(fm.id, State.PASSED) for fm in forms])
    assert Form.objects.filter(batch=week, completed_at__isnull=False).count() == 0  # rule "all"
    services.update_category(office, uni.category, {"completion_rule": "required"})
    assert Form.objects.filter(batch=week, completed_at__isnull=False).count() == len(forms)
    assert sums_equal_running_tallies(week)
    _steps, recounted_forms = daily.recount(week.id)
    assert sum(c["completed"] for c in recounted_forms.values()) == len(forms)
