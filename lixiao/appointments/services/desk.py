"""The desk's side of a booking: check-in (by button or by a scanned 离校码) and no-shows."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments.models import Booking
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
from lixiao.clearance.rules import Refused


def _handled_booking(actor: core.Actor, booking_id: int) -> Booking:
    """The booking, locked, if the person may handle its step on its form; NotFound otherwise."""
    booking = locked_booking(booking_id)
    if not actor.trusted:
        reach = scope.reach(actor.user, booking.plan.batch_id)
        form = booking.form
        if reach is None or not reach.may_handle(
            booking.plan.step_id, form.college_id, form.counselor_id
        ):
            raise NotFound
    return booking


def _arrive(actor: core.Actor, booking: Booking, now: datetime) -> bool:
    """Mark one locked booking arrived; False when it already was."""
    if booking.closed_at is None and booking.status == Booking.Status.ARRIVED:
        return False
    if booking.status != Booking.Status.BOOKED or booking.closed_at is not None:
        raise Refused(
            _("该预约状态为“%(status)s”，不能签到") % {"status": booking.get_status_display()},
            "closed",
        )
    if local(booking.slot.starts_at).date() != timezone.localdate(now):
        raise Refused(
            _("该预约在 %(day)s，不是今天")
            % {"day": f"{local(booking.slot.starts_at):%m-%d %H:%M}"},
            "not_today",
        )
    booking.status = Booking.Status.ARRIVED
    booking.arrived_at = now
    booking.save(update_fields=["status", "arrived_at"])
    core.log(
        actor,
        "appointments.booking.arrived",
        batch=booking.plan.batch,
        step=booking.plan.step,
        form_id=booking.form_id,
        at=now,
        data={"booking": booking.id, "slot": stamp(booking.slot.starts_at)},
    )
    core.forms_changed([booking.form_id])
    return True


def check_in(actor: core.Actor, booking_id: int, now: datetime | None = None) -> Booking:
    """签到: the student is at the counter for today's booking (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _handled_booking(actor, booking_id)
        _arrive(actor, booking, now)
    return booking


def arrive_by_code(
    actor: core.Actor, reach: scope.Reach, form_id: int, now: datetime | None = None
) -> list[Booking]:
    """A scanned 离校码: the student's bookings for today on the steps this person handles on
    their form are checked in. Returns the bookings newly marked arrived."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    start = slot_at(day, datetime.min.time())
    arrived = []
    with transaction.atomic():
        lock_form(reach.batch.id, form_id)
        bookings = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot", "form", "plan__batch", "plan__step")
            .filter(
                form_id=form_id,
                plan__batch=reach.batch,
                plan__step__in=reach.steps,
                status=Booking.Status.BOOKED,
                slot__starts_at__gte=start,
                slot__starts_at__lt=start + timedelta(days=1),
            )
            .order_by("slot__starts_at")
        )
        for booking in bookings:
            form = booking.form
            if reach.may_handle(booking.plan.step_id, form.college_id, form.counselor_id):
                if _arrive(actor, booking, now):
                    arrived.append(booking)
    return arrived


def mark_no_show(actor: core.Actor, booking_id: int, now: datetime | None = None) -> Booking:
    """未到: the slot has begun and the student did not come; they may book again."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _handled_booking(actor, booking_id)
        if booking.status == Booking.Status.NO_SHOW:
            return booking
        if booking.status != Booking.Status.BOOKED:
            raise Refused(
                _("该预约状态为“%(status)s”，不能标记未到")
                % {"status": booking.get_status_display()},
                "closed",
            )
        if booking.slot.starts_at > now:
            raise Refused(_("预约时段尚未开始，不能标记未到"), "not_started")
        close(booking, Booking.Status.NO_SHOW, now)
        core.log(
            actor,
            "appointments.booking.no_show",
            batch=booking.plan.batch,
            step=booking.plan.step,
            form_id=booking.form_id,
            at=now,
            data={"booking": booking.id, "slot": stamp(booking.slot.starts_at)},
        )
        core.forms_changed([booking.form_id])
    return booking
