"""Closing bookings when their step is no longer pending: the core's announcement, subscribed."""

from collections import defaultdict
from datetime import date

from django.utils import timezone

from lixiao import sqlbulk
from lixiao.appointments.models import OPEN, Booking, Plan
from lixiao.appointments.services.base import local, stamp
from lixiao.clearance import hooks
from lixiao.clearance import services as core
from lixiao.clearance.models import Source, State
from lixiao.clearance.services import audit

_CLOSE_ACTIONS = {
    Booking.Status.SERVED: "appointments.booking.served",
    Booking.Status.RELEASED: "appointments.booking.released",
    Booking.Status.NO_SHOW: "appointments.booking.no_show",
}


def closing_on_pass(status: str, slot_day: date, day: date) -> str:
    """What a booking still waiting becomes when its step is passed (or stops applying) on `day`:
    served if the student came (checked in, or handled on the booking's day), a no-show if its day
    went by, released — the place freed for others — if it lies ahead."""
    if status == Booking.Status.ARRIVED or slot_day == day:
        return Booking.Status.SERVED
    if slot_day < day:
        return Booking.Status.NO_SHOW
    return Booking.Status.RELEASED


def steps_changed(announced: hooks.StepsChanged) -> int:
    """Records left pending on forms of one batch: close the waiting bookings of those steps.

    Called by the writer inside its transaction (so a rolled-back pass keeps the booking); one
    query when no step changed has a plan. A bulk pass or a sync may close hundreds at once:
    one UPDATE per new status and one bulk insert of their audit events (the core's
    `write_changes`, as the writer does for records). Returns how many bookings were closed.
    """
    leaving: dict[int, set[int]] = defaultdict(set)
    for form_id, change, _item in announced.changes:
        if change.to_state != State.PENDING:
            leaving[change.step_id].add(form_id)
    if not leaving:
        return 0
    plans = dict(
        Plan.objects.filter(batch=announced.batch, step_id__in=list(leaving)).values_list(
            "step_id", "id"
        )
    )
    if not plans:
        return 0
    at = announced.at or timezone.now()
    day = timezone.localdate(at)
    by_status: dict[str, list[int]] = defaultdict(list)
    events, closed = [], []
    stamp_at = sqlbulk.adapt(at)
    for step_id, plan_id in plans.items():
        for part in sqlbulk.chunks(sorted(leaving[step_id])):
            waiting = (
                Booking.objects.select_for_update(of=("self",))
                .filter(OPEN, plan_id=plan_id, form_id__in=part)
                .order_by("id")
                .values_list("id", "form_id", "status", "slot__starts_at")
            )
            for booking_id, form_id, status, starts_at in waiting:
                status = closing_on_pass(status, local(starts_at).date(), day)
                by_status[status].append(booking_id)
                closed.append(form_id)
                data = {"booking": booking_id, "slot": stamp(starts_at)}
                events.append(
                    (stamp_at, None, _CLOSE_ACTIONS[status], announced.batch.id, form_id, None,
                     step_id, "", "", Source.CASCADE, "", None, None, sqlbulk.adapt(data))
                )  # fmt: skip
    for status, ids in by_status.items():
        for part in sqlbulk.chunks(ids):
            Booking.objects.filter(pk__in=part).update(status=status, closed_at=at)
    audit.write_changes(events)
    core.forms_changed(closed)
    return len(closed)


def connect() -> None:
    """Subscribe to what the core announces (AppointmentsConfig.ready)."""
    hooks.subscribe(hooks.StepsChanged, steps_changed)
