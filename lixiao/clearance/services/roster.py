"""Roster changes besides new forms: students whose attributes changed, counselors reassigned."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance.models import Batch, Form
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.commit import require_writable
from lixiao.clearance.services.records import reapply_conditions
from lixiao.clearance.services.versions import students_changed


def student_attributes_changed(actor: Actor, student_ids: Iterable[int]) -> int:
    """After a student's attributes changed (a roster re-import, master data): their pages
    show the new values at once, and applicability (Rule 1) is re-evaluated on their forms in
    batches not yet closed. Returns the number of records that changed state."""
    ids = sorted(set(student_ids))
    if not ids:
        return 0
    with transaction.atomic():
        students_changed(ids)
        by_batch: dict[int, list[int]] = defaultdict(list)
        for part in sqlbulk.chunks(ids):
            for batch_id, form_id in Form.objects.filter(
                student_id__in=part, batch__closes_at__gt=timezone.now()
            ).values_list("batch_id", "id"):
                by_batch[batch_id].append(form_id)
        changed = 0
        for batch in Batch.objects.filter(id__in=list(by_batch)).select_related("category"):
            changed += reapply_conditions(actor, batch, by_batch[batch.id])
    return changed


def assign_counselors(
    actor: Actor, batch: Batch, students_of: dict[int | None, list[int]], group=None
) -> int:
    """Name each student's counselor (辅导员) on their form in this batch: {counselor user id or
    None: [student ids]}. Returns how many forms changed.

    The counselor decides who reaches the student under a "my students" grant (Rule 4), so
    each changed form gets its own audit event (from → to) and its page version moves.
    """
    require_office(actor)
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        require_writable(batch)  # who reaches an archived batch's students is settled
        for counselor_id, student_ids in sorted(students_of.items(), key=lambda item: item[0] or 0):
            moving: list[tuple[int, int | None]] = []
            for part in sqlbulk.chunks(sorted(set(student_ids))):
                moving += list(
                    Form.objects.filter(batch=batch, student_id__in=part)
                    .exclude(counselor_id=counselor_id)
                    .select_for_update()
                    .values_list("id", "counselor_id")
                )
            if not moving:
                continue
            form_ids = [form_id for form_id, _before in moving]
            sqlbulk.update_where_in(
                Form._meta.db_table, {"counselor_id": counselor_id, "changed_at": now}, form_ids
            )
            audit.write_changes(
                (
                    sqlbulk.adapt(now),
                    actor.user_id,
                    "roster.counselor.assigned",
                    batch.id,
                    form_id,
                    None,
                    None,
                    "",
                    "",
                    actor.source,
                    "",
                    actor.client_ip,
                    sqlbulk.adapt(group) if group else None,
                    sqlbulk.adapt({"from": before, "to": counselor_id}),
                )
                for form_id, before in moving
            )
            changed += len(moving)
    return changed
