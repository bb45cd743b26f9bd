"""预约办理: the student books, changes or cancels a time for one of their pending steps (phone first)."""

from datetime import date, datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.appointments import queries, services
from lixiao.appointments.models import OPEN, Booking, Plan
from lixiao.clearance.models import Record, State
from lixiao.clearance.rules import Refused
from lixiao.clearance.scope import student_forms
from lixiao.clearance.services import Actor


def _record(request, record_id: int) -> Record:
    record = (
        Record.objects.select_related("step", "step__department", "form__batch", "form__student")
        .filter(pk=record_id, form__in=student_forms(request.user))
        .first()
    )
    if record is None:
        raise Http404
    return record


def _actor(request) -> Actor:
    return Actor(user=request.user, source=services.PORTAL, client_ip=client_ip(request))


def _slot(text: str) -> datetime | None:
    """The posted slot ('2026-06-20T09:00', the site's local time) or None."""
    try:
        value = datetime.strptime((text or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    if queries.sane_day(value.date()) is None:
        return None  # no slot lies there, and time-zone arithmetic near year 1 or 9999 overflows
    return timezone.make_aware(value)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _why_not(record: Record, plan: Plan | None, window: str) -> str:
    """Why nothing can be booked now, in a sentence; empty when booking is open."""
    if record.state != State.PENDING:
        return _("该环节已办理或无需办理，不需要预约。")
    if plan is None or not plan.enabled:
        return _("该环节目前未开放预约，请按办理说明前往办理。")
    if window != "open":
        return _("本批次不在服务时间内，不能预约。")
    return ""


@never_cache
@role_required("student")
def booking(request, record_id: int):
    record = _record(request, record_id)
    form, step = record.form, record.step
    batch = form.batch
    plan = Plan.objects.filter(batch=batch, step=step).first()
    mine = (
        Booking.objects.filter(OPEN, plan=plan, form=form).select_related("slot").first()
        if plan
        else None
    )
    error, status = "", 200
    if request.method == "POST":
        start = _slot(request.POST.get("slot", ""))
        if start is None:
            error, status = _("请选择一个时段。"), 400
        else:
            try:
                made = services.book(_actor(request), record.id, start)
            except services.NotFound:
                raise Http404 from None
            except Refused as refusal:
                error, status = str(refusal), 409
            else:
                at = timezone.localtime(made.slot.starts_at)
                messages.success(
                    request,
                    _(
                        "已预约“%(step)s”：%(day)s %(start)s–%(end)s。请按时到窗口办理，出示离校码即可签到。"
                    )
                    % {
                        "step": step.title,
                        "day": f"{at:%Y-%m-%d}",
                        "start": f"{at:%H:%M}",
                        "end": f"{timezone.localtime(made.slot.ends_at):%H:%M}",
                    },
                )
                return redirect(reverse("portal:home") + f"#step-{record.id}")
    why = _why_not(record, plan, batch.window_state())
    days = [] if why else queries.choices(plan, batch, mine)
    wanted = _day(request.GET.get("day") or request.POST.get("day", ""))
    chosen = next((d for d in days if d.day == wanted), days[0] if days else None)
    context = {
        "record": record,
        "step": step,
        "batch": batch,
        "plan": plan,
        "mine": mine,
        "why": why,
        "days": days,
        "chosen": chosen,
        "error": error,
    }
    if request.headers.get("HX-Request") == "true" and request.method == "GET":
        return render(request, "portal/_slots.html", context)
    return render(request, "portal/booking.html", context, status=status)


@role_required("student")
def cancel(request, booking_id: int):
    if request.method != "POST":
        raise Http404
    try:
        done = services.cancel(_actor(request), booking_id)
    except services.NotFound:
        raise Http404 from None
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("portal:home")
    messages.success(
        request,
        _("已取消“%(step)s”的预约，该时段已让给其他同学。") % {"step": done.plan.step.title},
    )
    record = Record.objects.filter(form_id=done.form_id, step_id=done.plan.step_id).first()
    return redirect(reverse("portal:home") + (f"#step-{record.id}" if record else ""))
