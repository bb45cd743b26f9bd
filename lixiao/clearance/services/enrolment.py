"""Forms and records made in bulk: roster enrolment, a step added to a category in use, completion
re-computed after a rule change."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao import sqlbulk
from lixiao.clearance import rules
from lixiao.clearance.models import (
    Batch,
    Form,
    Record,
    State,
    Step,
)
from lixiao.clearance.rules import Change, Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import (
    PURGED_PREFIX,
    Actor,
    Archived,
)
from lixiao.clearance.services.commit import (
    _TALLY_INDEX,
    _add_tallies,
    _commit,
    _load_states,
    _lock_forms,
    _settle_completion,
    _step_infos,
    _student_attributes,
    require_writable,
)
from lixiao.clearance.services.versions import forms_changed
from lixiao.directory.models import Student


@dataclass(frozen=True)
class Enrolment:
    """A student to put on a batch's roster, with the attributes conditions test."""

    student_id: int
    college_id: int
    counselor_id: int | None
    attributes: dict


def enrol(
    actor: Actor, batch: Batch, entries: Sequence[Enrolment], at: datetime | None = None
) -> int:
    """Create forms and their records (with applicability) for new roster entries, in bulk.

    Students already on the batch are the caller's to report; here they violate the
    one-form-per-student constraint and nothing is written.
    """
    steps = list(Step.objects.filter(category_id=batch.category_id).order_by("order", "id"))
    step_infos = [rules.StepInfo(s.id, s.title, s.required, s.is_final) for s in steps]
    step_ids = [s.id for s in steps]
    rule = batch.category.completion_rule
    now = at or timezone.now()
    now_db = sqlbulk.adapt(now)
    # At roster scale (50,000 × 12) per-record Python work dominates: steps without a
    # condition start the same on every form, and tallies are summed per distinct shape.
    unconditional = rules.initial_state([], {})
    conditional = [i for i, s in enumerate(steps) if s.condition]
    initial: list[tuple[str, ...]] = []
    complete: list[bool] = []
    shapes: Counter = Counter()  # (college id, states, complete) → forms
    for entry in entries:
        states = [unconditional] * len(steps)
        for i in conditional:
            states[i] = rules.initial_state(steps[i].condition, entry.attributes)
        states = tuple(states)
        done = rules.is_complete(rule, step_infos, dict(zip(step_ids, states, strict=True)))
        initial.append(states)
        complete.append(done)
        shapes[(entry.college_id, states, done)] += 1
    with transaction.atomic():
        require_writable(batch)  # an archived batch's roster is closed for good
        _refuse_purged([e.student_id for e in entries])
        sqlbulk.insert(
            Form._meta.db_table,
            (
                "batch_id",
                "student_id",
                "college_id",
                "counselor_id",
                "completed_at",
                "created_at",
                "changed_at",
            ),
            (
                (
                    batch.id,
                    e.student_id,
                    e.college_id,
                    e.counselor_id,
                    now_db if done else None,
                    now_db,
                    now_db,
                )
                for e, done in zip(entries, complete, strict=True)
            ),
        )
        form_of = sqlbulk.pairs(
            Form._meta.db_table,
            "student_id",
            "id",
            [e.student_id for e in entries],
            batch_id=batch.id,
        )
        sqlbulk.insert(
            Record._meta.db_table,
            ("form_id", "step_id", "state", "note", "source", "reason"),
            (
                (form_id, step_id, state, "", "", "")
                for form_id, states in zip(
                    (form_of[e.student_id] for e in entries), initial, strict=True
                )
                for step_id, state in zip(step_ids, states, strict=True)
            ),
        )
        step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for (college_id, states, done), count in shapes.items():
            for step_id, state in zip(step_ids, states, strict=True):
                step_deltas[(batch.id, step_id, college_id)][_TALLY_INDEX[state]] += count
            form_deltas[(batch.id, college_id)][0] += count
            form_deltas[(batch.id, college_id)][1] += count if done else 0
        _add_tallies(
            step_deltas, form_deltas, now, {(batch.id, sid): len(entries) for sid in step_ids}
        )
        sqlbulk.refresh_statistics()
        audit.log(actor, "roster.enrolled", batch=batch, at=now, data={"forms": len(entries)})
    return len(entries)


def _refuse_purged(student_ids: list[int]) -> None:
    """A student whose personal data the retention purge removed is an anonymous shell: never
    put back on a roster. Read under a share lock (PostgreSQL), so a purge in flight finishes
    first and is seen; the purge locks its students before it plans, so it sees this form."""
    table = connection.ops.quote_name(Student._meta.db_table)
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for part in sqlbulk.chunks(sorted(set(student_ids))):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT student_number FROM {table} WHERE id IN ({marks}) ORDER BY id{lock}",
                part,
            )
            if any(number.startswith(PURGED_PREFIX) for (number,) in cursor.fetchall()):
                raise Refused(
                    _("名单中有学生的个人信息已按保留期限清除，请重新上传名单后再导入。"),
                    "purged",
                )


def add_step_records(actor: Actor, step: Step) -> int:
    """Give every existing form of the step's category a record of this new step.

    Each record starts in its initial state (applicability); tallies follow; a complete form
    whose new record counts becomes incomplete, and a passed final step returns to pending when
    the new step is a required prerequisite (Rule 2). Returns the number of records created.
    """
    created = 0
    for batch in Batch.objects.filter(category_id=step.category_id).select_related("category"):
        created += _add_step_records_in(actor, batch, step)
    return created


def _add_step_records_in(actor: Actor, batch: Batch, step: Step) -> int:
    step_infos = _step_infos(batch.category_id)
    now = timezone.now()
    group = uuid.uuid4()
    with transaction.atomic():
        try:
            require_writable(batch)
        except Archived:
            return 0  # an archived batch keeps the steps it was archived with
        ids = list(
            Form.objects.filter(batch=batch)
            .exclude(records__step=step)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not ids:
            return 0
        forms = _lock_forms(ids)
        attributes = _student_attributes(ids)
        initial = {fid: rules.initial_state(step.condition, attributes[fid]) for fid in ids}
        sqlbulk.insert(
            Record._meta.db_table,
            ("form_id", "step_id", "state", "note", "source", "reason"),
            ((fid, step.id, initial[fid], "", "", "") for fid in ids),
        )
        step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        for fid in ids:
            step_deltas[(batch.id, step.id, forms[fid][0])][_TALLY_INDEX[initial[fid]]] += 1
        states = _load_states(ids)
        # Completion first (the new record may make a complete form incomplete), so that the
        # cascade below starts from the right completion state.
        _completed, reopened, form_deltas = _settle_completion(
            batch, step_infos, forms, states, ids, now
        )
        _add_tallies(step_deltas, form_deltas, now, {(batch.id, step.id): len(ids)})
        changes = []
        final = rules.final_step(step_infos)
        for fid in ids:
            form_states = {s: st for s, (_r, st, _src) in states[fid].items()}
            if (
                final
                and form_states.get(final.id) == State.PASSED
                and rules.gate_blockers(step_infos, form_states)
            ):
                changes.append(
                    (fid, Change(final.id, State.PASSED, State.PENDING, cascade=True), None)
                )
        _commit(
            actor,
            batch,
            step_infos,
            forms,
            states,
            changes,
            group,
            now,
            why=f"新增必办环节“{step.title}”",
        )
        forms_changed(ids)  # every one of these forms shows a new step
        audit.log(
            actor,
            "clearance.step.records_added",
            batch=batch,
            step=step,
            group=group,
            at=now,
            data={
                "records": len(ids),
                "pending": sum(1 for s in initial.values() if s == State.PENDING),
                "forms_reopened": len(reopened),
                "final_reopened": len(changes),
            },
        )
    return len(ids)


def refresh_completion(actor: Actor, batch: Batch) -> int:
    """Recompute every form's completion after a step's required flag or the rule changed.

    Records do not change here (reapply_conditions handles applicability and the final gate);
    only completion times and the form tallies. Returns how many forms changed.
    """
    step_infos = _step_infos(batch.category_id)
    now = timezone.now()
    with transaction.atomic():
        try:
            require_writable(batch)
        except Archived:
            return 0  # an archived batch keeps the completion it was archived with
        ids = list(Form.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
        forms = _lock_forms(ids)
        states = _load_states(ids)
        completed, reopened, form_deltas = _settle_completion(
            batch, step_infos, forms, states, ids, now
        )
        forms_changed(completed + reopened)
        _add_tallies({}, form_deltas, now)
        if completed or reopened:
            audit.log(
                actor,
                "clearance.completion.recomputed",
                batch=batch,
                at=now,
                data={"completed": len(completed), "reopened": len(reopened)},
            )
    return len(completed) + len(reopened)
