"""今日预约 at the desk: the day's slots of my step with who booked, check-in, no-shows; and the
appointment settings of a step my department handles for the whole batch."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.roles import grants
from lixiao.appointments import queries, services
from lixiao.appointments.forms import PlanForm
from lixiao.appointments.models import Booking, Plan
from lixiao.clearance.models import Source
from lixiao.clearance.rules import Refused
from lixiao.desk.access import actor, desk_required, is_partial, my_step, reach_for


def _day(text: str | None) -> date:
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        day = None
    return queries.sane_day(day) or timezone.localdate()


def _context(request, reach, step_id=None, day=None) -> dict:
    plans = queries.plans_for_steps(reach.batch, reach.steps)
    steps = [s for s in reach.steps if s.id in plans]
    step = next((s for s in steps if str(s.id) == str(step_id)), steps[0] if steps else None)
    day = day or _day(request.GET.get("day"))
    # The department's own settings; the office sets every step in the console instead.
    configurable = [
        s
        for s in reach.steps
        if not s.automatic
        and not reach.office
        and services.may_configure(request.user, reach.batch.id, s.id, grants(request))
    ]
    context = {
        "batch": reach.batch,
        "steps": steps,
        "step": step,
        "day": day,
        "today": timezone.localdate(),
        "now": timezone.now(),
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "configurable": configurable,
        "here": reverse("desk:appointments", args=[reach.batch.id]),
        # A student's form is f/<id>/ under the batch (desk/urls.py): reversed once, not per row.
        "forms_url": reverse("desk:batch", args=[reach.batch.id]) + "f/",
    }
    if step is not None:
        context["board"] = queries.board(reach, plans[step.id], day)
    return context


@desk_required
def today(request, batch_id: int):
    reach = reach_for(request, batch_id)
    context = _context(request, reach, request.GET.get("step"))
    if is_partial(request) and request.headers.get("HX-Target") == "board":
        return render(request, "desk/_board.html", context)
    return render(request, "desk/appointments.html", context)


@require_POST
@desk_required
def act(request, batch_id: int, booking_id: int, action: str):
    """签到 or 未到 for one booking; htmx gets the day's board back in place."""
    reach = reach_for(request, batch_id)
    booking = (
        Booking.objects.filter(pk=booking_id, plan__batch=reach.batch)
        .select_related("slot")
        .first()
    )
    if booking is None or action not in ("check-in", "no-show"):
        raise Http404
    day = timezone.localtime(booking.slot.starts_at).date()
    error = None
    try:
        if action == "check-in":
            services.check_in(actor(request, Source.DESK), booking.id)
        else:
            services.mark_no_show(actor(request, Source.DESK), booking.id)
    except services.NotFound:
        raise Http404 from None
    except Refused as refusal:
        error = str(refusal)
    if not is_partial(request):
        if error:
            messages.error(request, error)
        return redirect(
            reverse("desk:appointments", args=[batch_id])
            + f"?step={booking.plan.step_id}&day={day:%Y-%m-%d}"
        )
    context = _context(request, reach, booking.plan.step_id, day)
    context["error"] = error
    response = render(request, "desk/_board.html", context)
    if not error:
        response["HX-Trigger"] = "stats-changed"
    return response


@desk_required
def plan_settings(request, batch_id: int, step_id: int):
    """The department's own settings page (the office has the console's)."""
    reach = reach_for(request, batch_id)
    step = my_step(reach, step_id)
    if step.automatic or not services.may_configure(
        request.user, batch_id, step.id, grants(request)
    ):
        raise PermissionDenied(_("只有负责全校该环节的部门或管理员可以设置预约。"))
    plan = Plan.objects.filter(batch=reach.batch, step=step).first()
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_plan(actor(request, Source.DESK), reach.batch, step, form.plan_data())
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("已保存“%(step)s”的预约设置。") % {"step": step.title})
            return redirect(reverse("desk:appointments", args=[batch_id]) + f"?step={step.id}")
    return render(
        request,
        "desk/appointment_settings.html",
        {"batch": reach.batch, "step": step, "form": form, "plan": plan},
    )
