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
from ninja import Field, Query, Router, Schema
from ninja.security import SessionAuth
from pydantic import BaseModel, ConfigDict

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants
from lixiao.api.desk import DeskSession
from lixiao.api.errors import Problem, Refusal
from lixiao.appointments import queries, rules, services
from lixiao.appointments.models import OPEN, Booking, Plan
from lixiao.clearance import scope
from lixiao.clearance.models import Record, Source, State
from lixiao.clearance.scope import student_forms
from lixiao.clearance.services import Actor

StatusCode = Literal["booked", "arrived", "served", "no_show", "cancelled", "released"]


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
    """A logged-in student: their own bookings and free places only; anyone else gets 403."""

    openapi_description = "学生登录后的会话 Cookie（与页面相同的登录）。A student's session cookie of a login to the site."
    refusals = {403: "不是学生账号 · Not a student's account"}  # for the schema (openapi)

    def __call__(self, request):
        if not request.user.is_authenticated:
            raise Problem(401, "not_authenticated", _("未登录或登录已过期：请先登录"))
        return super().__call__(request)

    def authenticate(self, request, key):
        if not hasattr(request.user, "student"):
            raise Problem(403, "forbidden", _("只有学生可以查看自己的预约"))
        return request.user


desk_router = Router(tags=["appointments"], auth=DeskSession())
student_router = Router(tags=["appointments"], auth=StudentSession())
# A day to look at: bounded, so no date arithmetic runs past what the calendar holds.
DAY = Query(
    None,
    ge=queries.FIRST_DAY,
    le=queries.LAST_DAY,
    description="日期 YYYY-MM-DD，默认今天（2000-01-01 至 2099-12-31）",
)


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
    response=list[PlanOut],
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
    response=list[SlotOut],
    summary="某天的时段及名额（默认今天）",
    description="计数包括全部学生（窗口共用名额）；名单见 bookings。",
)
def slots(request, batch_id: int, step_id: int, day: date | None = DAY):
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
    response=list[BookingOut],
    summary="某天的预约名单（默认今天，只含我办理范围内的学生）",
)
def bookings(request, batch_id: int, step_id: int, day: date | None = DAY):
    reach, plan = _plan(request, batch_id, step_id)
    board = queries.board(reach, plan, day or timezone.localdate())
    return [_booking(b) for s in board.slots for b in s.bookings]


def _desk_change(request, booking_id: int, change):
    """One booking through the appointments' writer; NotFound (404) and Refused (409) answer
    through the API's error handlers."""
    actor = Actor(user=request.user, source=Source.API, client_ip=client_ip(request))
    booking = change(actor, booking_id)
    booking = Booking.objects.select_related(
        "slot", "plan__step", "form__student", "form__college"
    ).get(pk=booking.pk)
    return _booking(booking)


CHANGE_RESPONSES = {200: BookingOut, 409: Refusal}


class NoBody(BaseModel):
    """Check-in and no-show take nothing: the body may be left out, or be {} (pydantic's own
    model, as desk.NoteIn: anything else — an array, a number, a field — is refused with 422)."""

    model_config = ConfigDict(extra="forbid")


@desk_router.post(
    "/bookings/{booking_id}/check-in",
    response=CHANGE_RESPONSES,
    summary="签到（学生已到窗口，限当天的预约）",
    description="请求体可省略（或为 {}）。重复签到不变；409：预约已结束或不是今天，detail 为原因，refusal 为代码"
    "（closed、not_today、archived）；不存在与范围外同为 404。",
)
def check_in(request, booking_id: int, body: NoBody | None = None):
    return _desk_change(request, booking_id, services.check_in)


@desk_router.post(
    "/bookings/{booking_id}/no-show",
    response=CHANGE_RESPONSES,
    summary="标记未到（时段开始后）",
    description="请求体可省略（或为 {}）。409：时段尚未开始或预约已结束（refusal：not_started、closed、archived）；"
    "不存在与范围外同为 404。学生随后可另约时段。",
)
def no_show(request, booking_id: int, body: NoBody | None = None):
    return _desk_change(request, booking_id, services.mark_no_show)


@student_router.get(
    "/bookings",
    response=list[MyBookingOut],
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
    response=list[DayOut],
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
