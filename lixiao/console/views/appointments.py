"""预约办理 for the office: which steps of a batch take appointments, their settings, and the use
of each slot."""

from datetime import date, timedelta

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments import queries, rules
from lixiao.appointments import services as appointments
from lixiao.appointments.forms import WEEKDAYS, PlanForm
from lixiao.appointments.models import OPEN, Booking, Plan
from lixiao.clearance.models import Batch, Step
from lixiao.clearance.rules import Refused
from lixiao.console.access import actor, can_change, office_view

MAX_DAYS = 62  # the use page's longest range: two months of slots on one page


@office_view
def appointment_list(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    steps = list(Step.objects.filter(category_id=batch.category_id, automatic=False))
    plans = queries.plans_for_steps(batch, steps)
    waiting = dict(
        Booking.objects.filter(OPEN, plan__in=list(plans.values()))
        .values_list("plan__step_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for step in steps:
        plan = plans.get(step.id)
        hours = []
        if plan is not None:
            hours = [
                (
                    WEEKDAYS[first],
                    WEEKDAYS[last] if last != first else None,
                    rules.format_periods(p),
                )
                for first, last, p in rules.group_weekdays(plan.periods())
            ]
        rows.append(
            {"step": step, "plan": plan, "hours": hours, "waiting": waiting.get(step.id, 0)}
        )
    return render(
        request,
        "console/appointments/list.html",
        {"batch": batch, "rows": rows, "can_change": can_change(request)},
    )


def _step(batch: Batch, step_id: int) -> Step:
    return get_object_or_404(Step, pk=step_id, category_id=batch.category_id, automatic=False)


@office_view
def appointment_edit(request, pk: int, step_id: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    step = _step(batch, step_id)
    plan = Plan.objects.filter(batch=batch, step=step).first()
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            appointments.save_plan(actor(request), batch, step, form.plan_data())
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("已保存“%(step)s”的预约设置。") % {"step": step.title})
            return redirect("console:appointments", batch.pk)
    return render(
        request,
        "console/appointments/form.html",
        {"batch": batch, "step": step, "form": form, "plan": plan},
    )


def _date(text: str | None, default: date) -> date:
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        day = None
    return queries.sane_day(day) or default


@office_view
def appointment_use(request, pk: int, step_id: int):
    """Each slot's places, bookings, arrivals, services and no-shows over a range of days."""
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    step = _step(batch, step_id)
    plan = get_object_or_404(Plan, batch=batch, step=step)
    today = timezone.localdate()
    opens = timezone.localtime(batch.opens_at).date()
    closes = timezone.localtime(batch.closes_at).date()
    first = _date(request.GET.get("from"), max(opens, today))
    last = _date(request.GET.get("to"), min(closes, today + timedelta(days=plan.days_ahead)))
    if last < first:
        first, last = last, first
    last = min(last, first + timedelta(days=MAX_DAYS - 1))
    days = queries.use(plan, first, last)
    total = queries.Counts()
    capacity = 0
    for day in days:
        total += day.counts
        capacity += day.capacity
    return render(
        request,
        "console/appointments/use.html",
        {
            "batch": batch,
            "step": step,
            "plan": plan,
            "days": days,
            "first": first,
            "last": last,
            "total": total,
            "capacity": capacity,
            "max_days": MAX_DAYS,
            "edit_url": reverse("console:appointment_edit", args=[batch.pk, step.pk]),
        },
    )
