"""The demo's appointments (预约办理): 学生公寓 and 档案馆 take bookings in both batches, with some
booked — earlier today (most checked in, a few no-shows, some already served), later today and
the next days — all through the appointments' writer, as students and handlers would."""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from lixiao.appointments import services
from lixiao.appointments.models import Plan
from lixiao.clearance import services as core
from lixiao.clearance.models import Batch, Record, Source, State, Step

EVERY_DAY = [(time(8), time(12)), (time(14), time(20))]
WORKDAYS = [(time(8, 30), time(11, 30)), (time(14), time(17))]
# step title → (hours per weekday, slot minutes, places per slot); students book up to 7 days ahead
PLANS = {
    "学生公寓": ([EVERY_DAY] * 7, 30, 6),
    "档案馆": ([WORKDAYS] * 5 + [[], []], 30, 4),
}
DAYS_AHEAD = 7
PER_PLAN = 45  # bookings made in each plan: about a third on today's slots
# The walk-through students' bookings (README): 2022000001 at 档案馆, 2022000003 at 学生公寓.
WALK_THROUGH = {"2022000001": "档案馆", "2022000003": "学生公寓"}


def create(batches: list[Batch], admin, handlers: dict[str, object], rng: random.Random) -> int:
    """Turn appointments on and book; returns how many bookings were made."""
    now = timezone.now()
    office = core.Actor(admin, Source.ADMIN)
    made = 0
    for batch in batches:
        steps = {s.title: s for s in Step.objects.filter(category_id=batch.category_id)}
        for title, (hours, minutes, capacity) in PLANS.items():
            plan = services.save_plan(
                office,
                batch,
                steps[title],
                services.PlanData(True, minutes, capacity, DAYS_AHEAD, hours, []),
            )
            made += _book(plan, batch, steps[title], handlers[title], rng, now)
    return made


def _slots(plan: Plan, batch: Batch, now: datetime) -> tuple[list, list]:
    """(today's slots already begun, slots still to come within the next three days)."""
    schedule = plan.schedule()
    today = timezone.localdate(now)
    begun, ahead = [], []
    for offset in range(4):
        day = today + timedelta(days=offset)
        for start, end in schedule.slots_on(day):
            starts = services.slot_at(day, start)
            if starts < batch.opens_at or services.slot_at(day, end) > batch.closes_at:
                continue
            if starts <= now:
                if day == today:
                    begun.append(starts)
            else:
                ahead.append(starts)
    return begun, ahead


def _book(plan: Plan, batch: Batch, step: Step, handler, rng: random.Random, now) -> int:
    pending = list(
        Record.objects.filter(form__batch=batch, step=step, state=State.PENDING)
        .select_related("form__student__user")
        .order_by("form__student__student_number")
    )
    if not pending:
        return 0
    begun, ahead = _slots(plan, batch, now)
    walk = [r for r in pending if WALK_THROUGH.get(r.form.student.student_number) == step.title]
    others = [r for r in pending if r not in walk]
    chosen = rng.sample(others, min(PER_PLAN, len(others)))
    made = 0
    desk = core.Actor(handler, Source.DESK)
    for record in walk:
        if ahead:  # the walk-through student's booking is still to come
            made += _one(record, ahead[min(2, len(ahead) - 1)], now) is not None
    for n, record in enumerate(chosen):
        earlier = begun and n % 3 == 0
        slots = begun if earlier else ahead
        if not slots:
            continue
        starts = rng.choice(slots)
        # Booked the day before: the morning's bookings existed before their slots began.
        booking = _one(record, starts, starts - timedelta(days=1) if earlier else now)
        if booking is None:
            continue
        made += 1
        if earlier:
            _arrive_or_not(desk, record, booking, starts, rng)
    return made


def _one(record, starts, at):
    actor = core.Actor(record.form.student.user, services.PORTAL)
    try:
        return services.book(actor, record.id, starts, now=at)
    except core.Refused:
        return None  # that slot filled up: this student simply did not book


def _arrive_or_not(desk, record, booking, starts, rng) -> None:
    """Today's earlier slots: most came (some already cleared at the counter), a few did not."""
    came = starts + timedelta(minutes=rng.randint(0, 10))
    if rng.random() < 0.15:
        services.mark_no_show(desk, booking.id, now=starts + timedelta(minutes=30))
        return
    services.check_in(desk, booking.id, now=came)
    if rng.random() < 0.6:
        core.set_state(desk, record.id, State.PASSED, "")
