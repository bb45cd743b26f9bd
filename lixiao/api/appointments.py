"""预约办理 over REST: slots and bookings for the desk (check-in, no-show), read-only for the student.

Desk calls (/api/v1/desk/…) use the desk's session auth and gate: a batch or step that is not
the person's answers 404, a booking outside their scope too. Student calls (/api/v1/me/…) read
only the student's own bookings and the free places of their own steps.
"""

from datetime import date, datetime
from typing import Literal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import AuthorizationError
from ninja.responses import Status
from ninja.security import SessionAuth

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants
from lixiao.api.desk import DeskSession, Error
from lixiao.appointments import queries, rules, services
from lixiao.appointments.models import OPEN, Booking, Plan
from lixiao.clearance import scope
from lixiao.clearance.models import Record, Source, State
from lixiao.clearance.rules import Refused
from lixiao.clearance.scope import student_forms
from lixiao.clearance.services import Actor

StatusCode = Literal["booked", "arrived", "served", "no_show", "cancelled", "released"]


class Unauthorized(Schema):
    detail: str = Field(description="未登录（Unauthorized）")


class ValidationErrors(Schema):
    detail: list[dict] = Field(description="参数不合法：每项给出位置（loc）和原因（msg）")


class PlanOut(Schema):
    step_id: int
    step: str
    enabled: bool = Field(description="是否开放预约；关闭后已有预约保留")
    slot_minutes: int = Field(description="每个时段的分钟数")
    capacity: int = Field(description="每个时段可约人数")
    days_ahead: int = Field(description="学生可提前预约的天数（0 为只能约当天）")
    hours: list[list[str]] = Field(
        description='周一至周日（7 项）每天的开放时段，如 ["8:30-11:30", "14:00-17:00"]；空表示不开放'
    )
    closed_dates: list[date] = Field(description="不开放的日期")


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    capacity: int
    offered: bool = Field(description="仍是现行设置中的时段；false 为修改设置后保留的预约所在时段")
    booked: int = Field(description="预约人数（不含已取消、已释放）")
    arrived: int = Field(description="已签到（含签到后已办理）")
    served: int = Field(description="已办理")
    no_show: int = Field(description="未到（已标记，或时段已结束仍未签到）")
    waiting: int = Field(description="待到（时段尚未结束）")
    free: int = Field(description="剩余可约名额")


class BookingOut(Schema):
    id: int
    step_id: int
    step: str
    form_id: int
    student_number: str
    name: str
    college: str
    starts_at: datetime
    ends_at: datetime
    status: StatusCode
    status_label: str
    arrived_at: datetime | None


class MyBookingOut(Schema):
    id: int
    batch_id: int
    batch: str
    step_id: int
    step: str
    starts_at: datetime
    ends_at: datetime
    status: StatusCode
    status_label: str
    arrived_at: datetime | None


class ChoiceOut(Schema):
    starts_at: datetime
    ends_at: datetime
    free: int = Field(description="剩余可约名额（0 为已约满）")
    mine: bool = Field(description="我当前预约的时段")


class DayOut(Schema):
    day: date
    free: int
    slots: list[ChoiceOut]


class StudentSession(SessionAuth):
    """A logged-in student (their own data only); other people get 403."""

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None  # 401
        if not hasattr(user, "student"):
            raise AuthorizationError(message=_("只有学生可以查看自己的预约"))
        return user


desk_router = Router(tags=["appointments"], auth=DeskSession())
student_router = Router(tags=["appointments"], auth=StudentSession())
READ_ERRORS = {401: Unauthorized, 403: Error, 404: Error, 422: ValidationErrors}


def _plan(request, batch_id: int, step_id: int) -> tuple[scope.Reach, Plan]:
    reach = scope.reach(request.user, batch_id, grants(request))
    step = reach.step(step_id) if reach else None
    plan = Plan.objects.filter(batch_id=batch_id, step=step).first() if step else None
    if plan is None:
        raise Http404
    return reach, plan


def _booking(b: Booking, slot=None) -> dict:
    slot = slot or b.slot
    student = b.form.student
    return {
        "id": b.id,
        "step_id": b.plan.step_id,
        "step": b.plan.step.title,
        "form_id": b.form_id,
        "student_number": student.student_number,
        "name": student.name,
        "college": b.form.college.name,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "status": b.status,
        "status_label": b.get_status_display(),
        "arrived_at": b.arrived_at,
    }


@desk_router.get(
    "/batches/{batch_id}/appointments",
    response={200: list[PlanOut], **READ_ERRORS},
    summary="我的环节的预约设置",
)
def plans(request, batch_id: int):
    reach = scope.reach(request.user, batch_id, grants(request))
    if reach is None:
        raise Http404
    found = queries.plans_for_steps(reach.batch, reach.steps)
    return [
        {
            "step_id": step.id,
            "step": step.title,
            "enabled": plan.enabled,
            "slot_minutes": plan.slot_minutes,
            "capacity": plan.capacity,
            "days_ahead": plan.days_ahead,
            "hours": [
                [f"{rules.format_time(s)}-{rules.format_time(e)}" for s, e in day]
                for day in plan.periods()
            ],
            "closed_dates": sorted(date.fromisoformat(d) for d in plan.closed_dates or []),
        }
        for step in reach.steps
        if (plan := found.get(step.id)) is not None
    ]


@desk_router.get(
    "/batches/{batch_id}/appointments/{step_id}/slots",
    response={200: list[SlotOut], **READ_ERRORS},
    summary="某天的时段及名额（默认今天）",
    description="计数包括全部学生（窗口共用名额）；名单见 bookings。",
)
def slots(request, batch_id: int, step_id: int, day: date | None = None):
    reach, plan = _plan(request, batch_id, step_id)
    board = queries.board(reach, plan, day or timezone.localdate(), with_bookings=False)
    return [
        {
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "capacity": s.capacity,
            "offered": s.offered,
            "booked": s.counts.booked,
            "arrived": s.counts.arrived,
            "served": s.counts.served,
            "no_show": s.counts.no_show,
            "waiting": s.counts.waiting,
            "free": max(0, s.capacity - s.counts.booked) if not s.ended else 0,
        }
        for s in board.slots
    ]


@desk_router.get(
    "/batches/{batch_id}/appointments/{step_id}/bookings",
    response={200: list[BookingOut], **READ_ERRORS},
    summary="某天的预约名单（默认今天，只含我办理范围内的学生）",
)
def bookings(request, batch_id: int, step_id: int, day: date | None = None):
    reach, plan = _plan(request, batch_id, step_id)
    board = queries.board(reach, plan, day or timezone.localdate())
    return [_booking(b) for s in board.slots for b in s.bookings]


def _desk_change(request, booking_id: int, change):
    actor = Actor(user=request.user, source=Source.API, client_ip=client_ip(request))
    try:
        booking = change(actor, booking_id)
    except services.NotFound:
        return Status(404, {"detail": "Not Found"})
    except Refused as refusal:
        return Status(409, {"detail": str(refusal)})
    booking = Booking.objects.select_related(
        "slot", "plan__step", "form__student", "form__college"
    ).get(pk=booking.pk)
    return Status(200, _booking(booking))


CHANGE_ERRORS = {401: Unauthorized, 403: Error, 404: Error, 409: Error, 422: ValidationErrors}


@desk_router.post(
    "/bookings/{booking_id}/check-in",
    response={200: BookingOut, **CHANGE_ERRORS},
    summary="签到（学生已到窗口，限当天的预约）",
    description="重复签到不变；409：预约已取消、已结束或不是今天，detail 为原因；范围外 404。",
)
def check_in(request, booking_id: int):
    return _desk_change(request, booking_id, services.check_in)


@desk_router.post(
    "/bookings/{booking_id}/no-show",
    response={200: BookingOut, **CHANGE_ERRORS},
    summary="标记未到（时段开始后）",
    description="409：时段尚未开始或预约已结束；范围外 404。学生随后可另约时段。",
)
def no_show(request, booking_id: int):
    return _desk_change(request, booking_id, services.mark_no_show)


@student_router.get(
    "/bookings",
    response={200: list[MyBookingOut], 401: Unauthorized, 403: Error},
    summary="我的预约（只读）",
)
def my_bookings(request):
    return [
        {
            "id": b.id,
            "batch_id": b.plan.batch_id,
            "batch": b.plan.batch.name,
            "step_id": b.plan.step_id,
            "step": b.plan.step.title,
            "starts_at": b.slot.starts_at,
            "ends_at": b.slot.ends_at,
            "status": b.status,
            "status_label": b.get_status_display(),
            "arrived_at": b.arrived_at,
        }
        for b in queries.student_bookings(request.user)
    ]


@student_router.get(
    "/records/{record_id}/slots",
    response={200: list[DayOut], **READ_ERRORS},
    summary="我的一个环节可预约的日期与时段（只读；预约请在离校单页面操作）",
    description="环节已办理、未开放预约或不在服务时间内时为空列表；不是我的环节 404。",
)
def my_slots(request, record_id: int):
    record = (
        Record.objects.select_related("form__batch", "step")
        .filter(pk=record_id, form__in=student_forms(request.user))
        .first()
    )
    if record is None:
        raise Http404
    batch = record.form.batch
    plan = Plan.objects.filter(batch=batch, step=record.step, enabled=True).first()
    if plan is None or record.state != State.PENDING or batch.window_state() != "open":
        return []
    mine = Booking.objects.filter(OPEN, plan=plan, form=record.form).select_related("slot").first()
    return [
        {
            "day": d.day,
            "free": d.free,
            "slots": [
                {"starts_at": c.starts_at, "ends_at": c.ends_at, "free": c.free, "mine": c.mine}
                for c in d.slots
            ],
        }
        for d in queries.choices(plan, batch, mine)
    ]
