"""Batches (离校批次): create (with the category's default grants copied in) and change."""

from django.db import transaction
from django.utils.translation import gettext as _

from lixiao.clearance.models import Batch
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.grants import copy_default_grants

FIELDS = (
    "name",
    "academic_year",
    "student_type",
    "category",
    "opens_at",
    "closes_at",
    "description",
    "enabled",
)


def _check(batch: Batch) -> None:
    if batch.closes_at <= batch.opens_at:
        raise Refused(_("服务结束时间应晚于开始时间。"), "window")


def create_batch(actor: Actor, fields: dict) -> tuple[Batch, int]:
    """A new batch and the category's default grants copied into it: (batch, grants copied)."""
    require_office(actor)
    batch = Batch(**{k: v for k, v in fields.items() if k in FIELDS})
    _check(batch)
    with transaction.atomic():
        batch.save()
        audit.log(
            actor,
            "console.batch.created",
            batch=batch,
            data={"batch": batch.id, **audit.snapshot(batch, FIELDS)},
        )
        copied = copy_default_grants(actor, batch)
    return batch, copied


def update_batch(actor: Actor, batch: Batch, fields: dict) -> dict:
    """Change a batch (window, enabled, …); returns {field: [before, after]} of what changed.

    A batch whose roster is imported keeps its category: its forms' records are that
    category's steps.
    """
    require_office(actor)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        before = audit.snapshot(batch, FIELDS)
        for name, value in fields.items():
            if name in FIELDS:
                setattr(batch, name, value)
        _check(batch)
        changes = audit.diff(before, audit.snapshot(batch, FIELDS))
        if batch.archived_at is not None and set(changes) - {"enabled"}:
            raise Refused(
                _("批次已归档，只能更改“是否使用”；其余信息保持归档时的样子。"), "archived"
            )
        if "category" in changes and batch.forms.exists():
            raise Refused(_("已导入名单的批次不能更换离校类别。"), "category_in_use")
        if not changes:
            return {}
        batch.save()
        # The student's page reads the batch's own fields into its cache key: no version to move.
        audit.log(
            actor,
            "console.batch.updated",
            batch=batch,
            data={"batch": batch.id, "changes": changes},
        )
    return changes
