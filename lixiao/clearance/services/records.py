"""Changing records: one (desk, API), many (bulk, import, sync), and applicability re-evaluation."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao import sqlbulk
from lixiao.clearance import rules
from lixiao.clearance.models import (
    Batch,
    Form,
    Precedence,
    Record,
    Source,
    State,
    Step,
)
from lixiao.clearance.rules import Change, Refused
from lixiao.clearance.services.audit import _refusal_event, _summary_event
from lixiao.clearance.services.base import (
    Actor,
    Item,
    NotFound,
    Outcome,
)
from lixiao.clearance.services.commit import (
    _allowed_forms,
    _check_open,
    _commit,
    _load_states,
    _lock_forms,
    _step_infos,
    _student_attributes,
    mark_forms_changed,
)


def set_state(actor: Actor, record_id: int, to_state: str, note: str = "") -> Outcome:
    """Pass or revoke one record. Raises NotFound outside scope, Refused when the rules say no."""
    record = Record.objects.select_related("form__batch", "step").filter(pk=record_id).first()
    if record is None:
        raise NotFound
    outcome = apply_many(
        actor, record.form.batch, record.step, [Item(record.form_id, to_state, note)]
    )
    if outcome.refused:
        _, code, message = outcome.refused[0]
        if code == "scope":
            raise NotFound
        raise Refused(message, code)
    return outcome


def pass_record(actor: Actor, record_id: int, note: str = "") -> Outcome:
    return set_state(actor, record_id, State.PASSED, note)


def revoke_record(actor: Actor, record_id: int, note: str = "") -> Outcome:
    return set_state(actor, record_id, State.PENDING, note)


def apply_many(
    actor: Actor,
    batch: Batch,
    step: Step,
    items: Sequence[Item],
    group: uuid.UUID | None = None,
    at: datetime | None = None,
) -> Outcome:
    """Apply many pass/revoke decisions on one step, all or nothing for what is allowed.

    Refused items (outside scope, the gate, not applicable, duplicates) are reported, not applied;
    everything else commits in one transaction with one audit group. `at` stamps a replayed
    history (the demo's two weeks of work); real work always takes the current time.
    """
    outcome = Outcome(group=group or uuid.uuid4())
    if step.category_id != batch.category_id:
        raise NotFound  # a step of another category: nothing to handle here
    _check_open(actor, batch)
    step_infos = _step_infos(batch.category_id)
    now = at or timezone.now()
    with transaction.atomic():
        wanted: dict[int, Item] = {}
        for item in items:
            if item.form_id in wanted:
                outcome.refused.append(
                    (item.form_id, "duplicate", _("同一学生出现多次，仅按第一次处理"))
                )
            else:
                wanted[item.form_id] = item
        allowed = _allowed_forms(actor, batch, step, list(wanted))
        forms = _lock_forms(sorted(allowed))
        states = _load_states(list(forms))
        changes: list[tuple[int, Change, Item | None]] = []
        new_reasons: dict[str, list[int]] = defaultdict(list)  # reason → record ids
        reason_forms: set[int] = set()
        for form_id, item in wanted.items():
            if form_id not in forms:
                outcome.refused.append((form_id, "scope", _("该学生不在您的办理范围内")))
                continue
            form_states = {sid: st for sid, (_rid, st, _src) in states[form_id].items()}
            _rid, current, current_source = states[form_id][step.id]
            if (
                actor.source == Source.SYNC
                and step.precedence == Precedence.MANUAL_WINS
                and current == State.PASSED
                and current_source not in ("", Source.SYNC)
            ):
                outcome.unchanged.append(form_id)  # a manual pass is never reverted by sync
                continue
            try:
                planned = rules.plan_change(step_infos, form_states, step.id, item.to_state)
            except Refused as refusal:
                outcome.refused.append((form_id, refusal.code, str(refusal)))
                continue
            if not planned:
                outcome.unchanged.append(form_id)
                if item.reason is not None:
                    # A source's words can change while the state stays (欠费 1,200 → 800 元):
                    # the student must see the current reason, not the first one or none.
                    new_reasons[item.reason[:255]].append(_rid)
                    reason_forms.add(form_id)
                continue
            outcome.changed.append(form_id)
            for change in planned:
                changes.append((form_id, change, None if change.cascade else item))
                if change.cascade:
                    outcome.reopened.append(form_id)
        touched = _commit(
            actor,
            batch,
            step_infos,
            forms,
            states,
            changes,
            outcome.group,
            now,
            why=f"前置环节“{step.title}”已撤销",
        )
        for reason, record_ids in new_reasons.items():
            sqlbulk.update_where_in(Record._meta.db_table, {"reason": reason}, record_ids)
        mark_forms_changed(touched | reason_forms)
        if len(items) > 1:
            _summary_event(actor, batch, step, outcome, now)
    if outcome.refused and len(items) == 1 and actor.user is not None:
        _refusal_event(actor, batch, step, outcome, now)
    return outcome


def reapply_conditions(actor: Actor, batch: Batch, form_ids: Iterable[int] | None = None) -> int:
    """Re-evaluate applicability (Rule 1) after a student's attributes or a step's condition changed.

    Returns the number of records that changed.
    """
    steps = list(Step.objects.filter(category_id=batch.category_id))
    step_infos = _step_infos(batch.category_id)
    now = timezone.now()
    group = uuid.uuid4()
    with transaction.atomic():
        qs = Form.objects.filter(batch=batch)
        if form_ids is not None:
            qs = qs.filter(id__in=list(form_ids))
        ids = list(qs.order_by("id").values_list("id", flat=True))
        forms = _lock_forms(ids)
        attributes = _student_attributes(ids)
        states = _load_states(ids)
        changes = []
        for form_id in ids:
            attrs = attributes[form_id]
            applicable = {s.id: rules.applies(s.condition, attrs) for s in steps}
            form_states = {sid: st for sid, (_rid, st, _src) in states[form_id].items()}
            for change in rules.plan_reapply(step_infos, form_states, applicable):
                changes.append((form_id, change, None))
        mark_forms_changed(
            _commit(
                actor,
                batch,
                step_infos,
                forms,
                states,
                changes,
                group,
                now,
                why="学生信息变化，有必办环节变为需要办理",
            )
        )
    return len(changes)
