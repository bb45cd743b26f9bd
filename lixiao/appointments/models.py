"""Appointments (预约办理): a step's plan in a batch, its slots, and students' bookings."""

from datetime import date, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lixiao.appointments import rules


class Plan(models.Model):
    """Appointments for one manual step in one batch: opening hours, slot length, capacity."""

    batch = models.ForeignKey("clearance.Batch", on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey("clearance.Step", on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(_("开放预约"), default=True)
    slot_minutes = models.PositiveSmallIntegerField(_("每个时段（分钟）"), default=30)
    capacity = models.PositiveSmallIntegerField(_("每个时段可约人数"), default=5)
    days_ahead = models.PositiveSmallIntegerField(_("可提前预约天数"), default=7)
    # Seven lists (Monday first) of [start, end] as "HH:MM": the opening hours of each weekday.
    hours = models.JSONField(_("开放时间"), default=list)
    # ISO dates on which nobody may book (holidays, a day the office is away).
    closed_dates = models.JSONField(_("不开放日期"), default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("预约设置")
        constraints = [
            models.UniqueConstraint(fields=["batch", "step"], name="one_plan_per_batch_step")
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.step_id}"

    def periods(self) -> tuple[tuple[rules.Period, ...], ...]:
        days = list(self.hours or [])[:7] + [[]] * (7 - len(self.hours or []))
        return tuple(
            tuple((time.fromisoformat(s), time.fromisoformat(e)) for s, e in day) for day in days
        )

    def schedule(self) -> rules.Schedule:
        return rules.Schedule(
            hours=self.periods(),
            slot_minutes=self.slot_minutes,
            closed=frozenset(date.fromisoformat(d) for d in self.closed_dates or []),
            days_ahead=self.days_ahead,
        )


class Slot(models.Model):
    """One bookable time of a plan: created by its first booking, locked by every booking of it,
    so that two students never take its last place at once."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))

    class Meta:
        verbose_name = verbose_name_plural = _("预约时段")
        constraints = [
            models.UniqueConstraint(fields=["plan", "starts_at"], name="one_slot_per_plan_start"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.plan_id}@{self.starts_at:%Y-%m-%d %H:%M}"


class Booking(models.Model):
    """One student's booking of one slot (预约)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("已预约")
        ARRIVED = "arrived", _("已签到")
        SERVED = "served", _("已办理")
        NO_SHOW = "no_show", _("未到")
        CANCELLED = "cancelled", _("已取消")
        RELEASED = "released", _("已释放")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="bookings")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    # A booking means nothing without its form: a purge of the form takes its bookings along.
    form = models.ForeignKey("clearance.Form", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.BOOKED
    )
    created_at = models.DateTimeField(_("预约时间"), default=timezone.now)
    arrived_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    # When it closed: cancelled, served, released, no-show, or given up for another time.
    closed_at = models.DateTimeField(null=True, blank=True)
    # The day-before reminder (manage.py remind_appointments): sent at most once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("预约")
        constraints = [
            # One open booking per student and step: booking another time closes the old one.
            models.UniqueConstraint(
                fields=["plan", "form"],
                condition=Q(closed_at__isnull=True),
                name="one_open_booking_per_step",
            )
        ]
        indexes = [
            models.Index(fields=["slot", "status"]),
            models.Index(fields=["form", "status"]),
        ]

    def __str__(self):
        return f"{self.form_id} @ {self.slot_id}: {self.status}"


# A place is taken while the booking waits, and once the student came (arrived or served).
HOLDING = (Booking.Status.BOOKED, Booking.Status.ARRIVED, Booking.Status.SERVED)
# Open: the student is still to come, or came and their step is not done yet; at most one per
# step (the constraint above). A closed booking keeps its status: an arrival stays an arrival.
OPEN = Q(closed_at__isnull=True)
