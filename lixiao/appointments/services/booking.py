"""The student's own booking: book (or move), cancel. Capacity is counted under the slot's lock."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments.models import HOLDING, OPEN, Booking, Plan, Slot
from lixiao.appointments.services.base import (
    NotFound,
    close,
    local,
    lock_form,
    locked_booking,
    slot_at,
    stamp,
)
from lixiao.clearance import scope
from lixiao.clearance import services as core
from lixiao.clearance.models import Batch, Record, State, Step
from lixiao.clearance.rules import Refused


def _own_record(user, record_id: int) -> Record:
    record = (
        Record.objects.select_related("form__batch", "step")
        .filter(pk=record_id, form__in=scope.student_forms(user))
        .first()
    )
    if record is None:
        raise NotFound
    return record


def _open_plan(batch: Batch, step: Step, now: datetime) -> Plan:
    plan = Plan.objects.filter(batch=batch, step=step).first()
    if plan is None or not plan.enabled:
        raise Refused(_("“%(step)s”未开放预约") % {"step": step.title}, "no_plan")
    if batch.window_state(now) != "open":
        raise Refused(_("本批次不在服务时间内，不能预约"), "window")
    return plan


def bookable_end(plan: Plan, batch: Batch, start: datetime, now: datetime) -> datetime:
    """The end of the slot starting at `start` if students may book it now; Refused otherwise."""
    start = local(start)
    day = start.date()
    schedule = plan.schedule()
    days = schedule.days(
        timezone.localdate(now), local(batch.opens_at).date(), local(batch.closes_at).date()
    )
    unavailable = Refused(_("该时段不可预约，请在列表中重新选择"), "bad_slot")
    if day not in days:
        raise unavailable
    for begins, ends in schedule.slots_on(day):
        if slot_at(day, begins) == start:
            end = slot_at(day, ends)
            if start <= now:
                raise Refused(_("该时段已开始，请选择以后的时段"), "started")
            if start < batch.opens_at or end > batch.closes_at:
                raise unavailable
            return end
    raise unavailable


def _locked_slot(plan: Plan, start: datetime, end: datetime) -> Slot:
    # Insert-if-absent, then lock: two first bookings of a slot both end up on the one row.
    Slot.objects.bulk_create([Slot(plan=plan, starts_at=start, ends_at=end)], ignore_conflicts=True)
    return Slot.objects.select_for_update().get(plan=plan, starts_at=start)


def book(
    actor: core.Actor, record_id: int, start: datetime, now: datetime | None = None
) -> Booking:
    """Book the slot starting at `start` for one of the student's own pending steps; a booking
    they already hold for that step moves there (改约). `now` replays a past moment (the demo)."""
    now = now or timezone.now()
    record = _own_record(actor.user, record_id)
    form, step, batch = record.form, record.step, record.form.batch
    with transaction.atomic():
        lock_form(batch.id, form.id)
        state = Record.objects.filter(pk=record.id).values_list("state", flat=True).get()
        if state != State.PENDING:
            raise Refused(
                _("“%(step)s”已办理或无需办理，不需要预约") % {"step": step.title}, "not_pending"
            )
        plan = _open_plan(batch, step, now)
        end = bookable_end(plan, batch, start, now)
        current = (
            # Only the booking's row: its old slot is not locked (a move frees a place there, and
            # locking two slots could deadlock two students swapping times).
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot")
            .filter(OPEN, plan=plan, form=form)
            .first()
        )
        if current is not None and current.slot.starts_at == start:
            return current  # the same slot again: nothing to change
        slot = _locked_slot(plan, start, end)
        taken = Booking.objects.filter(slot=slot, status__in=HOLDING).count()
        if taken >= plan.capacity:
            raise Refused(_("该时段已约满，请选择其他时段"), "full")
        if current is not None:
            close(current, _closing_status(current, now), now)
        booking = Booking.objects.create(plan=plan, slot=slot, form=form, created_at=now)
        core.log(
            actor,
            "appointments.booking.changed" if current else "appointments.booking.created",
            batch=batch,
            step=step,
            form_id=form.id,
            at=now,
            data={
                "booking": booking.id,
                "slot": stamp(start),
                **(
                    {"from": stamp(current.slot.starts_at), "from_booking": current.id}
                    if current
                    else {}
                ),
            },
        )
        core.forms_changed([form.id])
    return booking


def _closing_status(booking: Booking, now: datetime) -> str:
    """What an open booking becomes when the student gives it up for another time: an arrival
    stays an arrival (they came; their step was not done that day), a slot that ended unvisited
    is a no-show, anything else a cancellation."""
    if booking.status == Booking.Status.ARRIVED:
        return Booking.Status.ARRIVED
    if booking.slot.ends_at <= now:
        return Booking.Status.NO_SHOW
    return Booking.Status.CANCELLED


def _own_booking(user, booking_id: int) -> Booking:
    return locked_booking(booking_id, within=scope.student_forms(user))


def cancel(actor: core.Actor, booking_id: int, now: datetime | None = None) -> Booking:
    """The student gives up their booking: the place is free for others at once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _own_booking(actor.user, booking_id)
        if booking.closed_at is not None:
            raise Refused(_("该预约已结束，无需取消"), "closed")
        if booking.status == Booking.Status.ARRIVED:
            raise Refused(_("您已签到，请在窗口办理"), "arrived")
        close(booking, _closing_status(booking, now), now)
        core.log(
            actor,
            "appointments.booking.cancelled",
            batch=booking.plan.batch,
            step=booking.plan.step,
            form_id=booking.form_id,
            at=now,
            data={
                "booking": booking.id,
                "slot": stamp(booking.slot.starts_at),
                "status": booking.status,
            },
        )
        core.forms_changed([booking.form_id])
    return booking
