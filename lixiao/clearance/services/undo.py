"""Undo of one bulk action or import (an audit group), replayed through the writer."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from lixiao.clearance.models import (
    Batch,
    Event,
    Source,
    Step,
)
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import (
    Actor,
    Item,
    Outcome,
)
from lixiao.clearance.services.commit import (
    _lock_forms,
    require_writable,
)
from lixiao.clearance.services.records import apply_many

UNDOABLE_ACTIONS = (
    "clearance.record.passed",
    "clearance.record.revoked",
    "clearance.record.reopened",
)


class UndoRefused(Refused):
    """A group cannot be undone; `students` lists who a later change touched (学号 姓名)."""

    def __init__(self, message: str, code: str, students: Sequence[str] = ()):
        super().__init__(message, code)
        self.students = list(students)


def undo_group(actor: Actor, group: uuid.UUID) -> Outcome:
    """Put every record a group changed back to its state before the group, through apply_many.

    New events (source admin, one new group, note "撤销操作组 …"); all or nothing. Refused when
    a later event touched one of the records (the list names those students), when the group
    changed applicability (that follows conditions, not people), or when it was undone before.
    """
    group = uuid.UUID(str(group))
    events = list(Event.objects.filter(group=group, record__isnull=False).order_by("id"))
    if not events:
        raise UndoRefused(_("该操作组没有可撤销的环节状态变更"), "nothing")
    if Event.objects.filter(action="clearance.group.undone", data__group=str(group)).exists():
        raise UndoRefused(_("该操作组已撤销过"), "done")
    if any(e.action not in UNDOABLE_ACTIONS for e in events):
        raise UndoRefused(
            _("该操作组包含适用条件的变化，不能撤销：请修改学生信息或环节的适用条件"),
            "applicability",
        )
    original: dict[int, Event] = {}
    for e in events:
        original.setdefault(e.record_id, e)  # the first event of a record holds its state before
    undo = Outcome(group=uuid.uuid4())
    admin = Actor(user=actor.user, source=Source.ADMIN, client_ip=actor.client_ip)
    note = f"撤销操作组 {group}"  # stored in records and the audit log: not translated
    with transaction.atomic():
        # The batch first, then its forms — the writer's order — and an archived batch says so.
        for batch_id in sorted({e.batch_id for e in events}):
            try:
                require_writable(Batch(pk=batch_id))
            except Refused as refusal:
                raise UndoRefused(str(refusal), refusal.code) from None
        _lock_forms(sorted({e.form_id for e in events}))
        later = Event.objects.filter(record_id__in=list(original), id__gt=events[-1].id).exclude(
            group=group
        )
        touched = sorted(
            set(later.values_list("form__student__student_number", "form__student__name"))
        )
        if touched:
            names = [f"{number} {name}" for number, name in touched]
            raise UndoRefused(
                _("之后又有 %(count)s 名学生的相关环节被更改，不能撤销") % {"count": len(names)},
                "later",
                names,
            )
        batches = {
            b.id: b
            for b in Batch.objects.filter(id__in={e.batch_id for e in events}).select_related(
                "category"
            )
        }
        steps = {s.id: s for s in Step.objects.filter(id__in={e.step_id for e in events})}
        by_step: dict[tuple[int, int], list[Item]] = defaultdict(list)
        for e in original.values():
            by_step[(e.batch_id, e.step_id)].append(Item(e.form_id, e.from_state, note))
        # Prerequisites first, the final step last: its gate must see them passed again.
        for batch_id, step_id in sorted(by_step, key=lambda k: (steps[k[1]].is_final, k)):
            outcome = apply_many(
                admin,
                batches[batch_id],
                steps[step_id],
                by_step[(batch_id, step_id)],
                group=undo.group,
            )
            if outcome.refused:
                _fid, _code, message = outcome.refused[0]
                raise UndoRefused(
                    _("撤销未完成，已全部撤回：%(reason)s") % {"reason": message}, "refused"
                )
            undo.changed += outcome.changed
            undo.unchanged += outcome.unchanged
        audit.log(
            admin,
            "clearance.group.undone",
            batch=events[0].batch_id,
            group=undo.group,
            note=note,
            data={"group": str(group), "records": len(original)},
        )
    return undo
