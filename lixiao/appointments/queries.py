"""Scoped reads of appointments for every surface: the student's choices and bookings, a desk's
day, the live counts and the office's use of each slot. Reads start from the gate (a `Reach`,
or the student's own forms); queries do not grow with the number of slots or bookings shown."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from lixiao.appointments.models import HOLDING, OPEN, Booking, Plan, Slot
from lixiao.appointments.services import local, slot_at
from lixiao.clearance import scope
from lixiao.clearance.models import Batch, Form, Step

S = Booking.Status
# The days any page or call may look at: date arithmetic near 0001 or 9999 would overflow.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def sane_day(value: date | None) -> date | None:
    """The day if it lies within FIRST_DAY–LAST_DAY, else None (the caller's default applies)."""
    return value if value is not None and FIRST_DAY <= value <= LAST_DAY else None


@dataclass
class Counts:
    """What happened to the bookings of a slot, a day or a step."""

    booked: int = 0  # everyone who booked and did not give it up (cancelled or released)
    arrived: int = 0  # checked in (and those served after checking in)
    served: int = 0  # their step was passed: by check-in, or on the booking's day
    no_show: int = 0  # marked 未到, or the slot ended while still waiting
    waiting: int = 0  # booked, slot not over yet
    cancelled: int = 0
    released: int = 0  # the step passed before the slot: the place went back

    def add(self, status: str, ended: bool, n: int = 1) -> None:
        if status == S.CANCELLED:
            self.cancelled += n
            return
        if status == S.RELEASED:
            self.released += n
            return
        self.booked += n
        if status in (S.ARRIVED, S.SERVED):
            self.arrived += n
        if status == S.SERVED:
            self.served += n
        if status == S.NO_SHOW or (status == S.BOOKED and ended):
            self.no_show += n
        elif status == S.BOOKED:
            self.waiting += n

    def __iadd__(self, other: "Counts") -> "Counts":
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def day_range(day: date) -> tuple[datetime, datetime]:
    start = slot_at(day, datetime.min.time())
    return start, start + timedelta(days=1)


# --- the student ------------------------------------------------------------------------------


def annotate_records(records: QuerySet) -> QuerySet:
    """Give each record, in the same query, `appointment_open` (its step takes appointments in
    its form's batch) and `open_booking` (the id of its open booking, or None)."""
    plans = Plan.objects.filter(
        batch_id=OuterRef("form__batch_id"), step_id=OuterRef("step_id"), enabled=True
    )
    waiting = Booking.objects.filter(
        OPEN, form_id=OuterRef("form_id"), plan__step_id=OuterRef("step_id")
    ).values("id")[:1]
    return records.annotate(appointment_open=Exists(plans), open_booking=Subquery(waiting))


def bookings(ids) -> dict[int, Booking]:
    """Bookings by id with their slots (one query; none when there are no ids)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {b.id: b for b in Booking.objects.filter(pk__in=ids).select_related("slot")}


def form_bookings(form_id: int) -> list[Booking]:
    """One form's open bookings, soonest first, with slot and step (the 离校码 page)."""
    return list(
        Booking.objects.filter(OPEN, form_id=form_id)
        .select_related("slot", "plan__step")
        .order_by("slot__starts_at", "id")
    )


def student_bookings(user) -> list[Booking]:
    """Every booking on the student's own forms, latest slot first (the API's read)."""
    return list(
        Booking.objects.filter(form__in=scope.student_forms(user))
        .select_related("slot", "plan__step", "plan__batch")
        .order_by("-slot__starts_at", "-id")
    )


@dataclass
class Choice:
    """One slot as the student sees it."""

    starts_at: datetime
    ends_at: datetime
    free: int
    mine: bool = False

    @property
    def value(self) -> str:
        """What the booking form posts: the local start, minute precision."""
        return local(self.starts_at).strftime("%Y-%m-%dT%H:%M")


@dataclass
class DayChoice:
    day: date
    free: int  # places left on the day in slots not yet begun
    slots: list[Choice] = field(default_factory=list)


def taken_by_start(plan: Plan, first: datetime, last: datetime) -> dict[datetime, int]:
    """Places held per slot start in [first, last): one grouped query."""
    rows = (
        Booking.objects.filter(
            plan=plan, status__in=HOLDING, slot__starts_at__gte=first, slot__starts_at__lt=last
        )
        .values_list("slot__starts_at")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {start: n for start, n in rows}


def choices(plan: Plan, batch: Batch, mine: Booking | None, now=None) -> list[DayChoice]:
    """The days a student may book now, each with its slots and free places (two queries at most)."""
    now = now or timezone.now()
    schedule = plan.schedule()
    days = schedule.days(
        timezone.localdate(now), local(batch.opens_at).date(), local(batch.closes_at).date()
    )
    if not days:
        return []
    taken = taken_by_start(plan, day_range(days[0])[0], day_range(days[-1])[1])
    result = []
    for day in days:
        slots = []
        for begins, ends in schedule.slots_on(day):
            start, end = slot_at(day, begins), slot_at(day, ends)
            if start <= now or start < batch.opens_at or end > batch.closes_at:
                continue
            is_mine = mine is not None and mine.slot.starts_at == start
            free = max(0, plan.capacity - taken.get(start, 0))
            slots.append(Choice(start, end, free, is_mine))
        if slots:
            result.append(DayChoice(day, sum(c.free for c in slots), slots))
    return result


# --- the desk's day ---------------------------------------------------------------------------


@dataclass
class BoardSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    counts: Counts
    bookings: list[Booking] = field(default_factory=list)  # those within the person's reach
    offered: bool = True  # still a slot of the current settings (a kept booking may not be)

    @property
    def ended(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def percent(self) -> int:
        """Places used, in percent (above 100 when fewer places kept more bookings)."""
        return round(100 * self.counts.booked / self.capacity) if self.capacity else 0

    @property
    def bar(self) -> int:
        """The percentage a bar may draw (the page's CSS has widths 0–100, no inline style)."""
        return min(100, self.percent)


@dataclass
class Board:
    plan: Plan
    day: date
    slots: list[BoardSlot]
    counts: Counts


def _grouped(bookings, now) -> dict:
    """(slot id, status, ended) counts → per slot id a Counts."""
    counts: dict[int, Counts] = defaultdict(Counts)
    for slot_id, status, ends_at, n in bookings:
        counts[slot_id].add(status, ends_at <= now, n)
    return counts


def _reached(qs, reach: scope.Reach, step_id: int):
    """Bookings on forms where the person may handle the step (the gate's filter)."""
    q = reach.handle_filter(step_id)
    if q == Q(batch=reach.batch):
        return qs  # the whole batch: the plan already says which batch
    return qs.filter(form__in=Form.objects.filter(q).values("id"))


def board(reach: scope.Reach, plan: Plan, day: date, now=None, with_bookings=True) -> Board:
    """A desk's day for one step: every slot (offered, or holding a kept booking) with its
    counts over all students and (with_bookings) the bookings of students within the person's
    reach."""
    now = now or timezone.now()
    first, last = day_range(day)
    slots = {
        s.starts_at: s
        for s in Slot.objects.filter(plan=plan, starts_at__gte=first, starts_at__lt=last)
    }
    grouped = _grouped(
        Booking.objects.filter(slot__in=list(slots.values()))
        .values_list("slot_id", "status", "slot__ends_at")
        .annotate(n=Count("id"))
        .order_by(),
        now,
    )
    mine: dict[int, list[Booking]] = defaultdict(list)
    listed = (
        Booking.objects.none()
        if not with_bookings
        else _reached(
            Booking.objects.filter(slot__in=list(slots.values())).exclude(
                status__in=(S.CANCELLED, S.RELEASED)
            ),
            reach,
            plan.step_id,
        ).select_related("form__student", "form__college")
    )
    for booking in listed.order_by("form__student__student_number"):
        booking.plan = plan  # the one plan of this board: no query per booking
        mine[booking.slot_id].append(booking)
    rows: dict[datetime, BoardSlot] = {}
    for begins, ends in plan.schedule().slots_on(day):
        start = slot_at(day, begins)
        rows[start] = BoardSlot(start, slot_at(day, ends), plan.capacity, Counts())
    for start, slot in slots.items():
        row = rows.get(start)
        if row is None:
            row = rows[start] = BoardSlot(
                start, slot.ends_at, plan.capacity, Counts(), offered=False
            )
        row.counts = grouped.get(slot.id, Counts())
        row.bookings = mine.get(slot.id, [])
    ordered = [rows[k] for k in sorted(rows)]
    total = Counts()
    for row in ordered:
        total += row.counts
    return Board(plan, day, ordered, total)


def day_counts(
    reach: scope.Reach, plans: dict[int, Plan], day: date, now=None
) -> dict[int, Counts]:
    """Per step with a plan: today's bookings on forms the person may handle (the live panel).

    Steps the person reaches alike are counted in one grouped query.
    """
    now = now or timezone.now()
    first, last = day_range(day)
    by_reach: dict = defaultdict(list)
    for step_id in plans:
        by_reach[reach.handle_filter(step_id)].append(step_id)
    result = {step_id: Counts() for step_id in plans}
    for q, step_ids in by_reach.items():
        qs = Booking.objects.filter(
            plan__in=[plans[s] for s in step_ids],
            slot__starts_at__gte=first,
            slot__starts_at__lt=last,
        )
        if q != Q(batch=reach.batch):
            qs = qs.filter(form__in=Form.objects.filter(q).values("id"))
        rows = (
            qs.values_list("plan__step_id", "status", "slot__ends_at")
            .annotate(n=Count("id"))
            .order_by()
        )
        for step_id, status, ends_at, n in rows:
            result[step_id].add(status, ends_at <= now, n)
    return result


# --- the office: the use of each slot --------------------------------------------------------


@dataclass
class UseDay:
    day: date
    slots: list[BoardSlot]
    counts: Counts
    capacity: int  # places offered on the day (kept bookings outside the settings add none)

    @property
    def percent(self) -> float:
        return round(100 * self.counts.booked / self.capacity, 1) if self.capacity else 0.0

    @property
    def bar(self) -> int:
        return min(100, round(self.percent))


def use(plan: Plan, first: date, last: date, now=None) -> list[UseDay]:
    """Each day from `first` to `last` (inclusive) with every slot's counts: two queries."""
    now = now or timezone.now()
    start, end = day_range(first)[0], day_range(last)[1]
    slots = {
        (local(s.starts_at).date(), s.starts_at): s
        for s in Slot.objects.filter(plan=plan, starts_at__gte=start, starts_at__lt=end)
    }
    grouped = _grouped(
        Booking.objects.filter(plan=plan, slot__starts_at__gte=start, slot__starts_at__lt=end)
        .values_list("slot_id", "status", "slot__ends_at")
        .annotate(n=Count("id"))
        .order_by(),
        now,
    )
    schedule = plan.schedule()
    days = []
    day = first
    while day <= last:
        rows: dict[datetime, BoardSlot] = {}
        for begins, ends in schedule.slots_on(day):
            s = slot_at(day, begins)
            rows[s] = BoardSlot(s, slot_at(day, ends), plan.capacity, Counts())
        capacity = plan.capacity * len(rows)
        for (slot_day, s), slot in slots.items():
            if slot_day != day:
                continue
            row = rows.get(s) or BoardSlot(s, slot.ends_at, plan.capacity, Counts(), offered=False)
            rows[s] = row
            row.counts = grouped.get(slot.id, Counts())
        total = Counts()
        for row in rows.values():
            total += row.counts
        if rows:
            days.append(UseDay(day, [rows[k] for k in sorted(rows)], total, capacity))
        day += timedelta(days=1)
    return days


def plans_for_steps(batch: Batch, steps: list[Step]) -> dict[int, Plan]:
    """The plans (enabled or not) of these steps in the batch: step id → plan."""
    plans = Plan.objects.filter(batch=batch, step__in=steps).select_related("step")
    return {p.step_id: p for p in plans}
