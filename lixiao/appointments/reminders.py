"""The day-before reminder of a booking (预约提醒): one notification per student, once per booking.

`manage.py remind_appointments` runs it (cron, twice a day is safe): every booking still waiting
for a slot tomorrow that has not been reminded gets one. The booking's `reminded_at` is set in
the same transaction as the notification, under a row lock, so a second run — the same day or
at the same moment on another node — finds nothing left to send. A booking moved to another
slot is a new booking and is reminded again.

Texts stay Chinese, as every notification does (docs/translations.md).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lixiao.appointments.models import Booking
from lixiao.appointments.services import local, slot_at
from lixiao.clearance import services as core
from lixiao.notify import services as notify

ACTION = "appointments.reminder.sent"
WEEKDAYS = "一二三四五六日"


@dataclass
class Message:
    user_id: int
    title: str
    body: str
    bookings: list[int] = field(default_factory=list)
    who: str = ""  # 学号（姓名）, for the dry run's listing


@dataclass
class Run:
    day: date  # the day the reminded slots are on (tomorrow)
    messages: list[Message]

    @property
    def bookings(self) -> int:
        return sum(len(m.bookings) for m in self.messages)


def _due(day: date):
    start = slot_at(day, datetime.min.time())
    return (
        Booking.objects.filter(
            status=Booking.Status.BOOKED,
            reminded_at__isnull=True,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + timedelta(days=1),
            plan__batch__enabled=True,
            plan__batch__archived_at__isnull=True,
        )
        .select_related("slot", "plan__step", "form__student")
        .order_by("form__student__user_id", "slot__starts_at", "id")
    )


def _messages(bookings, day: date) -> list[Message]:
    mine: dict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        mine[booking.form.student.user_id].append(booking)
    title = "预约提醒：明天到窗口办理离校手续"
    messages = []
    for user_id, held in mine.items():
        items = [
            f"“{b.plan.step.title}”{local(b.slot.starts_at):%H:%M}–{local(b.slot.ends_at):%H:%M}"
            for b in held
        ]
        body = (
            f"您预约了明天（{day:%Y-%m-%d} 周{WEEKDAYS[day.weekday()]}）：{'；'.join(items)}。"
            "请按时前往，在窗口出示离校码即可签到；如不能前往，请在离校单上改约或取消，把名额留给其他同学。"
        )
        student = held[0].form.student
        who = f"{student.student_number}（{student.name}）"
        messages.append(Message(user_id, title, body, [b.id for b in held], who))
    return messages


def remind(now=None, dry_run: bool = False) -> Run:
    """Remind every student of tomorrow's bookings not reminded yet (dry_run: only say whom)."""
    now = now or timezone.now()
    day = timezone.localdate(now) + timedelta(days=1)
    if dry_run:
        return Run(day, _messages(_due(day), day))
    with transaction.atomic():
        # Locked: a concurrent run waits here, then finds these rows reminded and skips them.
        bookings = list(_due(day).select_for_update(of=("self",)))
        run = Run(day, _messages(bookings, day))
        link = reverse("portal:home")
        for message in run.messages:
            notify.send([message.user_id], message.title, message.body, link)
        Booking.objects.filter(pk__in=[b.id for b in bookings]).update(reminded_at=now)
        if run.messages:
            core.log(
                core.Actor.system(""),
                ACTION,
                note=f"预约提醒：学生 {len(run.messages)} 人，预约 {run.bookings} 个",
                data={
                    "day": day.isoformat(),
                    "students": len(run.messages),
                    "bookings": run.bookings,
                },
                at=now,
            )
    return run
