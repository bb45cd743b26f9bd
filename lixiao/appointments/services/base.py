"""What the appointments' writer shares: times in the site's zone, the lock order, closing."""

from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from lixiao.appointments.models import Booking
from lixiao.clearance import services as core
from lixiao.clearance.models import Batch, Form

NotFound, Forbidden = core.NotFound, core.Forbidden
# The audit source of what students do themselves on their page (book, change, cancel).
PORTAL = "portal"


def local(at: datetime) -> datetime:
    return timezone.localtime(at)


def slot_at(day: date, t) -> datetime:
    """A slot time of a day as an aware datetime in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, t))


def stamp(at: datetime) -> str:
    return local(at).strftime("%Y-%m-%d %H:%M")


def lock_form(batch_id: int, form_id: int) -> None:
    """The writer's order: the batch's share lock (an archived batch is refused, for everyone),
    then the form — a pass and a booking of one form queue, never interleave."""
    core.require_writable(Batch(pk=batch_id))
    list(Form.objects.select_for_update().filter(pk=form_id).values_list("id", flat=True))


def locked_booking(booking_id: int, within: QuerySet | None = None) -> Booking:
    """The booking, locked after its batch and form: every write here takes them in the record
    writer's order (batch, form, then the bookings its pass closes) — so the two never wait for
    each other in opposite order. `within`: the forms it must be on."""
    found = Booking.objects.filter(pk=booking_id)
    if within is not None:
        found = found.filter(form__in=within)
    ids = found.values_list("plan__batch_id", "form_id").first()
    if ids is None:
        raise NotFound
    lock_form(*ids)
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot", "form", "plan__batch", "plan__step")
        .get(pk=booking_id)
    )


def close(booking: Booking, status: str, now: datetime) -> None:
    booking.status = status
    booking.closed_at = now
    booking.save(update_fields=["status", "closed_at"])
