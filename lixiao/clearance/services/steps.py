"""Steps (环节) of a category: create (records on every existing form), change (a new condition
or flag is re-applied to every form), delete (only without records), reorder."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from lixiao.clearance import rules
from lixiao.clearance.models import Batch, Category, ChangeRequest, Record, Step
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.enrolment import add_step_records, refresh_completion
from lixiao.clearance.services.records import reapply_conditions
from lixiao.clearance.services.versions import categories_changed

# What the office edits on a step (the condition and the order have their own paths).
FIELDS = (
    "title",
    "owner_type",
    "department",
    "required",
    "automatic",
    "source",
    "precedence",
    "is_final",
    "survey_bound",
    "instructions",
    "contact",
    "deadline",
)


@dataclass
class StepSaved:
    step: Step
    records_added: int = 0  # a new step's records on existing forms
    reapplied: int = 0  # records whose state a changed condition or flag moved


def _fill(step: Step, fields: dict, condition: list) -> None:
    for name in FIELDS:
        if name in fields:
            setattr(step, name, fields[name])
    rules.validate_condition(condition)  # ConditionError says which clause is wrong
    step.condition = condition


def create_step(
    actor: Actor,
    category: Category,
    fields: dict,
    condition: list | None = None,
    change_request: ChangeRequest | None = None,
) -> StepSaved:
    """A new last step, with a record on every form of the category's batches (Rule 1, 2, 3).

    With `change_request`, the approved addition it drafted is fulfilled (its status DONE).
    """
    require_office(actor)
    with transaction.atomic():
        step = Step(category=category)
        _fill(step, fields, condition or [])
        last = Step.objects.filter(category=category).aggregate(m=Max("order"))["m"] or 0
        step.order = last + 1
        step.save()
        added = add_step_records(actor, step)
        data = {
            "step": step.id,
            "title": step.title,
            "changes": audit.diff({}, audit.snapshot(step, FIELDS)),
            "records_added": added,
        }
        if change_request is not None:
            change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
            if not change_request.is_draft or change_request.category_id != category.id:
                raise Refused(_("该变更申请已处理，不能再次加入类别。"), "change_request_done")
            change_request.step, change_request.status = step, ChangeRequest.Status.DONE
            change_request.save(update_fields=["step", "status"])
            data["change_request"] = change_request.id
        categories_changed([category.pk])
        audit.log(actor, "console.step.created", data=data)
    return StepSaved(step, records_added=added)


def update_step(actor: Actor, step: Step, fields: dict, condition: list) -> StepSaved:
    """Change a step. A new condition, required or final flag is re-applied to every form of
    the category's batches in the same transaction (applicability, gate, completion)."""
    require_office(actor)
    with transaction.atomic():
        step = Step.objects.select_for_update().get(pk=step.pk)
        before = {**audit.snapshot(step, FIELDS), "condition": step.condition}
        _fill(step, fields, condition)
        after = {**audit.snapshot(step, FIELDS), "condition": step.condition}
        changes = audit.diff(before, after)
        if not changes:
            return StepSaved(step)
        step.save()
        categories_changed([step.category_id])
        data = {"step": step.id, "title": step.title, "changes": changes}
        if "condition" in changes:
            data["condition"] = [before["condition"], condition]
        audit.log(actor, "console.step.updated", data=data)
        reapplied = 0
        flags_changed = "required" in changes or "is_final" in changes
        if "condition" in changes or flags_changed:
            for batch in Batch.objects.filter(category_id=step.category_id).select_related(
                "category"
            ):
                reapplied += reapply_conditions(actor, batch)
                if flags_changed:
                    refresh_completion(actor, batch)
    return StepSaved(step, reapplied=reapplied)


def removal_blocker(step: Step) -> str | None:
    """Why a step cannot be deleted, or None: its records (history) must be kept."""
    used = Record.objects.filter(step=step).count()
    if used:
        return _(
            "“%(title)s”已用于 %(used)s 份离校单，不能删除（办理记录须保留）。"
            "如不再需要，可将其设为非必办，或在新的离校类别中不再添加。"
        ) % {"title": step.title, "used": used}
    return None


def delete_step(actor: Actor, step: Step, change_request: ChangeRequest | None = None) -> None:
    """Delete a step that no form uses; Refused (with what to do instead) otherwise."""
    require_office(actor)
    with transaction.atomic():
        step = Step.objects.select_for_update().get(pk=step.pk)
        blocker = removal_blocker(step)
        if blocker:
            raise Refused(blocker, "in_use")
        data = {"step": step.id, "title": step.title, "category": step.category_id}
        if change_request is not None:
            data["change_request"] = change_request.id
        audit.log(actor, "console.step.deleted", data=data)
        categories_changed([step.category_id])
        step.delete()  # a change request keeps the title; its step link becomes empty


def move_step(actor: Actor, category: Category, step_id: int, direction: str) -> bool:
    """Move a step one place up or down in its category's order; False when it cannot move."""
    require_office(actor)
    with transaction.atomic():
        ordered = list(
            Step.objects.filter(category=category).select_for_update().order_by("order", "id")
        )
        index = next((i for i, s in enumerate(ordered) if s.pk == step_id), None)
        if index is None:
            return False
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ordered):
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, step in enumerate(ordered, start=1):
            step.order = position
        Step.objects.bulk_update(ordered, ["order"])
        categories_changed([category.pk])
        audit.log(
            actor,
            "console.step.moved",
            data={"step": step_id, "direction": direction, "order": [s.pk for s in ordered]},
        )
    return True
