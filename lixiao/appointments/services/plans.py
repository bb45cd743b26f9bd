"""Appointment settings of a step in a batch: the office, or the department that handles it."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments import rules
from lixiao.appointments.models import Plan
from lixiao.appointments.services.base import Forbidden, NotFound
from lixiao.clearance import scope
from lixiao.clearance import services as core
from lixiao.clearance.models import Batch, Step
from lixiao.clearance.rules import Refused


@dataclass(frozen=True)
class PlanData:
    """A plan's settings as a form or a caller gives them (already parsed)."""

    enabled: bool
    slot_minutes: int
    capacity: int
    days_ahead: int
    hours: list  # seven lists of (start, end) times, Monday first
    closed_dates: list[date]


def may_configure(user, batch_id: int, step_id: int, grants=None) -> bool:
    """The office, or the department that handles the step: whoever handles it on every form of
    the batch (a whole-school grant). A counselor's college grant does not set a shared counter."""
    if scope.is_office(user):
        return True
    reach = scope.reach(user, batch_id, grants)
    if reach is None or reach.step(step_id) is None:
        return False
    return reach.handle_filter(step_id) == Q(batch=reach.batch)


def _plan_values(data: PlanData) -> dict:
    return {
        "enabled": bool(data.enabled),
        "slot_minutes": data.slot_minutes,
        "capacity": data.capacity,
        "days_ahead": data.days_ahead,
        "hours": [
            [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in day] for day in data.hours
        ],
        "closed_dates": [d.isoformat() for d in sorted(set(data.closed_dates))],
    }


def save_plan(actor: core.Actor, batch: Batch, step: Step, data: PlanData) -> Plan:
    """Create or change the appointments of a manual step in a batch.

    Bookings already made stay as they are (the student was given that time), even when the
    new hours, length or closed dates no longer offer their slot: the desk's day and the
    office's slot use mark such slots.
    """
    if step.category_id != batch.category_id:
        raise NotFound
    if not actor.trusted and not may_configure(actor.user, batch.id, step.id):
        raise Forbidden
    if step.automatic:
        raise Refused(
            _("“%(step)s”为自动办理环节，学生无需到场，不能开放预约") % {"step": step.title},
            "automatic",
        )
    try:
        rules.check_settings(data.slot_minutes, data.capacity, data.days_ahead, data.hours)
    except rules.PlanError as error:
        raise Refused(str(error), "settings") from None
    values = _plan_values(data)
    with transaction.atomic():
        core.require_writable(batch)  # an archived batch's settings stay as they were
        plan = Plan.objects.select_for_update().filter(batch=batch, step=step).first()
        before = {name: getattr(plan, name) for name in values} if plan else {}
        if plan is None:
            plan = Plan(batch=batch, step=step)
        for name, value in values.items():
            setattr(plan, name, value)
        plan.updated_at = timezone.now()
        plan.updated_by = actor.user
        plan.save()
        changed = {k: [before.get(k), v] for k, v in values.items() if before.get(k) != v}
        core.log(
            actor,
            "appointments.plan.created" if not before else "appointments.plan.updated",
            batch=batch,
            # The step by id in data: a plan may precede the roster (no records protect the step).
            data={"step": step.id, "step_title": step.title, "plan": plan.id, "changes": changed},
        )
        # Every student page of the category says whether the step takes appointments.
        core.categories_changed([batch.category_id])
    return plan
