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
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import (
    Actor,
    Archived,
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
    require_writable,
)
from lixiao.clearance.services.versions import forms_changed


def set_state(actor: Actor, record_id: int, to_state: str, note: str = "") -> Outcome:
    """Pass or revoke one record. Raises NotFound outside scope, Refused when the rules say no.

    The outcome's `record` is the record as this call left it, read in its own transaction:
    what the caller shows is what this change produced, never a later writer's state.
    """
    record = Record.objects.select_related("form__batch", "step").filter(pk=record_id).first()
    if record is None:
        raise NotFound
    with transaction.atomic():
        outcome = apply_many(
            actor, record.form.batch, record.step, [Item(record.form_id, to_state, note)]
        )
        if not outcome.refused:
            outcome.record = Record.objects.select_related("step").get(pk=record_id)
    # Raised after the transaction: the refusal's own audit event is kept.
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
    dry_run: bool = False,
) -> Outcome:
    """Apply many pass/revoke decisions on one step, all or nothing for what is allowed.

    Refused items (outside scope, the gate, not applicable, duplicates) are reported, not applied;
    everything else commits in one transaction with one audit group. `at` stamps a replayed
    history (the demo's two weeks of work); real work always takes the current time.

    dry_run: the same checks and plan on the current states, returning exactly what would
    change (changed, unchanged, refused, reopened) and writing nothing — no lock, no event.
    Previews (desk import, sync --dry-run) use it instead of a copy of these rules.
    """
    outcome = Outcome(group=group or uuid.uuid4())
    if step.category_id != batch.category_id:
        raise NotFound  # a step of another category: nothing to handle here
    _check_open(actor, batch)
    step_infos = _step_infos(batch.category_id)
    now = at or timezone.now()
    with transaction.atomic():
        require_writable(batch)  # archived: refused for everyone, read under a share lock
        wanted: dict[int, Item] = {}
        for item in items:
            if item.form_id in wanted:
                outcome.refused.append(
                    (item.form_id, "duplicate", _("同一学生出现多次，仅按第一次处理"))
                )
            else:
                wanted[item.form_id] = item
        allowed = _allowed_forms(actor, batch, step, list(wanted))
        forms = _lock_forms(sorted(allowed), lock=not dry_run)
        states = _load_states(list(forms))
        changes, new_reasons = _plan(actor, step, step_infos, wanted, forms, states, outcome)
        if dry_run:
            return outcome
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
        reason_forms: set[int] = set()
        for reason, pairs in new_reasons.items():
            sqlbulk.update_where_in(
                Record._meta.db_table, {"reason": reason}, [rid for _fid, rid in pairs]
            )
            reason_forms.update(fid for fid, _rid in pairs)
        forms_changed(touched | reason_forms)
        if len(items) > 1:
            audit.summary(actor, batch, step, outcome, now)
    if outcome.refused and len(items) == 1 and actor.user is not None:
        audit.refusal(actor, batch, step, outcome, now)
    return outcome


def _plan(actor, step, step_infos, wanted, forms, states, outcome):
    """What each wanted item would do, by the rules, on the states read: fills `outcome` and
    returns (changes to commit, {new reason: [(form id, record id)]})."""
    changes: list[tuple[int, Change, Item | None]] = []
    new_reasons: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for form_id, item in wanted.items():
        if form_id not in forms:
            outcome.refused.append((form_id, "scope", _("该学生不在您的办理范围内")))
            continue
        form_states = {sid: st for sid, (_rid, st, _src) in states[form_id].items()}
        record_id, current, current_source = states[form_id][step.id]
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
                new_reasons[item.reason[:255]].append((form_id, record_id))
            continue
        outcome.changed.append(form_id)
        for change in planned:
            changes.append((form_id, change, None if change.cascade else item))
            if change.cascade:
                outcome.reopened.append(form_id)
    return changes, new_reasons


def reapply_conditions(actor: Actor, batch: Batch, form_ids: Iterable[int] | None = None) -> int:
    """Re-evaluate applicability (Rule 1) after a student's attributes or a step's condition changed.

    Returns the number of records that changed.
    """
    steps = list(Step.objects.filter(category_id=batch.category_id))
    step_infos = _step_infos(batch.category_id)
    now = timezone.now()
    group = uuid.uuid4()
    with transaction.atomic():
        try:
            require_writable(batch)
        except Archived:
            return 0  # an archived batch keeps its forms as they were archived
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
        forms_changed(
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
