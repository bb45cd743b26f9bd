"""The one writer (Rule 5): every change of a record — click, bulk, import, API, sync,
cascade — goes through here: scope, window and rules checked, records, audit events,
completion and counters written in one transaction.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from lixiao.clearance import bulkdb, rules, scope
from lixiao.clearance.models import (
    Batch,
    Event,
    Form,
    FormTally,
    Grant,
    Precedence,
    Record,
    Source,
    State,
    Step,
    StepTally,
)
from lixiao.clearance.rules import Change, Refused
from lixiao.notify import services as notify

EVENT_COLUMNS = (
    "at", "actor_id", "action", "batch_id", "form_id", "record_id", "step_id",
    "from_state", "to_state", "source", "note", "client_ip", "group", "data",
)
SYSTEM_SOURCES = {Source.SYNC, Source.CASCADE, Source.SURVEY, Source.ROSTER}


class NotFound(Exception):
    """Outside the person's scope: shown as 404, so nothing is learnt about the object."""


class Closed(Refused):
    """The batch is outside its service window: handlers cannot change records."""


@dataclass(frozen=True)
class Actor:
    """Who changes something, from where. `trusted` callers (sync, survey, roster) decided scope."""

    user: object | None
    source: str
    client_ip: str | None = None
    trusted: bool = False

    @classmethod
    def system(cls, source: str, user=None) -> "Actor":
        return cls(user=user, source=source, trusted=True)

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None


@dataclass(frozen=True)
class Item:
    """One wanted change on one form for the step being handled."""

    form_id: int
    to_state: str
    note: str = ""
    reason: str | None = None  # an integration source's words for an automatic step


@dataclass
class Outcome:
    group: uuid.UUID
    changed: list[int] = field(default_factory=list)  # form ids
    unchanged: list[int] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (form id, code, message)
    reopened: list[int] = field(default_factory=list)  # forms whose final step returned to pending


# ---------------------------------------------------------------------------------------------
# entry points


def set_state(actor: Actor, record_id: int, to_state: str, note: str = "") -> Outcome:
    """Pass or revoke one record. Raises NotFound outside scope, Refused when the rules say no."""
    record = Record.objects.select_related("form__batch", "step").filter(pk=record_id).first()
    if record is None:
        raise NotFound
    outcome = apply_many(actor, record.form.batch, record.step, [Item(record.form_id, to_state, note)])
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
    actor: Actor, batch: Batch, step: Step, items: Sequence[Item], group: uuid.UUID | None = None
) -> Outcome:
    """Apply many pass/revoke decisions on one step, all or nothing for what is allowed.

    Refused items (outside scope, the gate, not applicable, duplicates) are reported, not applied;
    everything else commits in one transaction with one audit group.
    """
    outcome = Outcome(group=group or uuid.uuid4())
    if step.category_id != batch.category_id:
        raise NotFound  # a step of another category: nothing to handle here
    _check_open(actor, batch)
    step_infos = _step_infos(batch.category_id)
    now = timezone.now()
    with transaction.atomic():
        wanted: dict[int, Item] = {}
        for item in items:
            if item.form_id in wanted:
                outcome.refused.append((item.form_id, "duplicate", "同一学生出现多次，仅按第一次处理"))
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
                outcome.refused.append((form_id, "scope", "该学生不在您的办理范围内"))
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
        touched = _commit(actor, batch, step_infos, forms, states, changes, outcome.group, now,
                          why=f"前置环节“{step.title}”已撤销")
        for reason, record_ids in new_reasons.items():
            bulkdb.update_where_in(Record._meta.db_table, {"reason": reason}, record_ids)
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
        mark_forms_changed(_commit(actor, batch, step_infos, forms, states, changes, group, now,
                              why="学生信息变化，有必办环节变为需要办理"))
    return len(changes)


@dataclass(frozen=True)
class Enrolment:
    """A student to put on a batch's roster, with the attributes conditions test."""

    student_id: int
    college_id: int
    counselor_id: int | None
    attributes: dict


def enrol(actor: Actor, batch: Batch, entries: Sequence[Enrolment]) -> int:
    """Create forms and their records (with applicability) for new roster entries, in bulk.

    Students already on the batch are the caller's to report; here they violate the
    one-form-per-student constraint and nothing is written.
    """
    steps = list(Step.objects.filter(category_id=batch.category_id).order_by("order", "id"))
    step_infos = [rules.StepInfo(s.id, s.title, s.required, s.is_final) for s in steps]
    step_ids = [s.id for s in steps]
    rule = batch.category.completion_rule
    now = timezone.now()
    now_db = bulkdb.adapt(now)
    # At roster scale (50,000 × 12) per-record Python work dominates: steps without a
    # condition start the same on every form, and counters are summed per distinct shape.
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
        bulkdb.insert(
            Form._meta.db_table,
            ("batch_id", "student_id", "college_id", "counselor_id", "completed_at", "created_at", "changed_at"),
            (
                (batch.id, e.student_id, e.college_id, e.counselor_id, now_db if done else None, now_db, now_db)
                for e, done in zip(entries, complete, strict=True)
            ),
        )
        form_of = bulkdb.pairs(Form._meta.db_table, "student_id", "id", [e.student_id for e in entries],
                               batch_id=batch.id)
        bulkdb.insert(
            Record._meta.db_table,
            ("form_id", "step_id", "state", "note", "source", "reason"),
            (
                (form_id, step_id, state, "", "", "")
                for form_id, states in zip((form_of[e.student_id] for e in entries), initial, strict=True)
                for step_id, state in zip(step_ids, states, strict=True)
            ),
        )
        step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for (college_id, states, done), count in shapes.items():
            for step_id, state in zip(step_ids, states, strict=True):
                step_deltas[(batch.id, step_id, college_id)][_COUNTER_INDEX[state]] += count
            form_deltas[(batch.id, college_id)][0] += count
            form_deltas[(batch.id, college_id)][1] += count if done else 0
        _add_tallies(step_deltas, form_deltas)
        bulkdb.refresh_statistics()
        Event.objects.create(
            at=now, actor_id=actor.user_id, action="roster.enrolled", batch=batch, source=actor.source,
            client_ip=actor.client_ip, data={"forms": len(entries)},
        )
    return len(entries)


# ---------------------------------------------------------------------------------------------
# internals

_COUNTER_INDEX = {State.NOT_REQUIRED: 0, State.PENDING: 1, State.PASSED: 2}
_ACTIONS = {
    (State.PENDING, State.PASSED): "clearance.record.passed",
    (State.PASSED, State.PENDING): "clearance.record.revoked",
    (State.NOT_REQUIRED, State.PENDING): "clearance.record.applicable",
    (State.PENDING, State.NOT_REQUIRED): "clearance.record.not_applicable",
    (State.PASSED, State.NOT_REQUIRED): "clearance.record.not_applicable",
}


def _check_open(actor: Actor, batch: Batch) -> None:
    if actor.trusted or scope.is_office(actor.user):
        return
    if not batch.enabled:
        raise NotFound
    state = batch.window_state()
    if state == "not_yet":
        raise Closed(f"批次“{batch.name}”尚未开始办理（{timezone.localtime(batch.opens_at):%Y-%m-%d %H:%M} 开放）", "window")
    if state == "closed":
        raise Closed(f"批次“{batch.name}”已于 {timezone.localtime(batch.closes_at):%Y-%m-%d %H:%M} 结束办理，如需更改请联系学生离校工作主管部门", "window")


def _allowed_forms(actor: Actor, batch: Batch, step: Step, form_ids: list[int]) -> set[int]:
    if actor.trusted:
        q = scope.Q(batch=batch)
    else:
        q = scope.handle_q(actor.user, batch, step)
    allowed: set[int] = set()
    for part in bulkdb.chunks(form_ids):
        allowed.update(Form.objects.filter(q, id__in=part).values_list("id", flat=True))
    return allowed


def _lock_forms(form_ids: list[int]) -> dict[int, tuple]:
    """Lock the forms (in id order, so writers never deadlock) and read what the writer needs.

    The lock serialises every change on one form: a final-step pass and a prerequisite
    revoke cannot interleave (Rule 2 under concurrency). SQLite's IMMEDIATE transactions
    already serialise writers, and Django leaves FOR UPDATE out there.
    """
    forms: dict[int, tuple] = {}
    for part in bulkdb.chunks(sorted(form_ids)):
        qs = Form.objects.filter(id__in=part).order_by("id").select_for_update()
        for fid, college_id, counselor_id, completed_at in qs.values_list(
            "id", "college_id", "counselor_id", "completed_at"
        ):
            forms[fid] = (college_id, counselor_id, completed_at)
    return forms


def _load_states(form_ids: list[int]) -> dict[int, dict[int, tuple[int, str, str]]]:
    # Plain SQL: a 10,000-form bulk pass reads 120,000 records here, and ints and strings
    # need none of the ORM's per-row conversions.
    states: dict[int, dict[int, tuple[int, str, str]]] = defaultdict(dict)
    for rid, fid, sid, state, source in bulkdb.select_in(
        Record._meta.db_table, ("id", "form_id", "step_id", "state", "source"), "form_id", form_ids
    ):
        states[fid][sid] = (rid, state, source)
    return states


def _step_infos(category_id: int) -> list[rules.StepInfo]:
    return [
        rules.StepInfo(sid, title, required, is_final)
        for sid, title, required, is_final in Step.objects.filter(category_id=category_id)
        .order_by("order", "id")
        .values_list("id", "title", "required", "is_final")
    ]


def _student_attributes(form_ids: list[int]) -> dict[int, dict]:
    attrs = {}
    for part in bulkdb.chunks(form_ids):
        for fid, stype, political, college, major, gender, dorm in Form.objects.filter(id__in=part).values_list(
            "id", "student__student_type", "student__political_status", "student__college__code",
            "student__major", "student__gender", "student__dormitory",
        ):
            attrs[fid] = {"student_type": stype, "political_status": political, "college": college,
                          "major": major, "gender": gender, "dormitory": dorm}
    return attrs


def mark_forms_changed(form_ids: Iterable[int]) -> None:
    """Move the forms' changed_at on, in the caller's transaction: one UPDATE (chunked IN lists).

    The student's page is cached under a key that holds changed_at, so a write that commits
    this makes every cached copy of the page unreachable at the same moment. The time is taken
    here, at write time (inside the writer's form locks), not when the operation started: the
    key only needs a value the form never had before, and a clock read late gives one.
    """
    ids = sorted(set(form_ids))
    if ids:
        bulkdb.update_where_in(Form._meta.db_table, {"changed_at": timezone.now()}, ids)


def _commit(actor, batch, step_infos, forms, states, changes, group, now, why) -> set[int]:
    """Write planned changes: records, events, completion, counters, notifications.

    `why` says what sent a passed final step back to pending, for its audit note and notice.
    Returns the forms touched; the caller marks them changed (with any others) in one UPDATE.
    """
    if not changes:
        return set()
    by_id = {s.id: s for s in step_infos}
    rule = batch.category.completion_rule
    updates: dict[tuple, list[int]] = defaultdict(list)
    events = []
    step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    touched: set[int] = set()
    now_db, group_db = bulkdb.adapt(now), bulkdb.adapt(group)
    for form_id, change, item in changes:
        record_id, _state, _source = states[form_id][change.step_id]
        college_id = forms[form_id][0]
        if change.cascade:
            note = f"{why}，本环节退回未办理"
            key = (change.to_state, None, Source.CASCADE, note[:255], None)
            action, source, actor_id = "clearance.record.reopened", Source.CASCADE, actor.user_id
        else:
            note = (item.note if item else "")[:255]
            reason = item.reason if item else None
            key = (change.to_state, actor.user_id, actor.source, note, reason)
            action, source, actor_id = _ACTIONS[(change.from_state, change.to_state)], actor.source, actor.user_id
        updates[key].append(record_id)
        events.append((
            now_db, actor_id, action, batch.id, form_id, record_id, change.step_id,
            change.from_state, change.to_state, source, note, actor.client_ip, group_db,
            "{}",
        ))
        deltas = step_deltas[(batch.id, change.step_id, college_id)]
        deltas[_COUNTER_INDEX[change.from_state]] -= 1
        deltas[_COUNTER_INDEX[change.to_state]] += 1
        states[form_id][change.step_id] = (record_id, change.to_state, source)
        touched.add(form_id)

    for (to_state, handled_by, source, note, reason), record_ids in updates.items():
        values = {"state": to_state, "handled_by_id": handled_by, "handled_at": now, "source": source, "note": note}
        if reason is not None:
            values["reason"] = reason[:255]
        bulkdb.update_where_in(Record._meta.db_table, values, record_ids)
    bulkdb.insert(Event._meta.db_table, EVENT_COLUMNS, events)

    completed, reopened = [], []
    form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for form_id in touched:
        college_id, _counselor, completed_at = forms[form_id]
        done = rules.is_complete(rule, step_infos, {sid: st for sid, (_r, st, _s) in states[form_id].items()})
        if done and completed_at is None:
            completed.append(form_id)
            form_deltas[(batch.id, college_id)][1] += 1
        elif not done and completed_at is not None:
            reopened.append(form_id)
            form_deltas[(batch.id, college_id)][1] -= 1
    if completed:
        bulkdb.update_where_in(Form._meta.db_table, {"completed_at": now}, completed)
    if reopened:
        bulkdb.update_where_in(Form._meta.db_table, {"completed_at": None}, reopened)
    _add_tallies(step_deltas, form_deltas)
    notify.steps_changed(batch, step_infos, changes)  # one in-app notice per student, bulk

    cascaded = [(fid, c) for fid, c, _item in changes if c.cascade]
    if cascaded:
        _notify_final_handlers(batch, by_id, forms, cascaded, why)
    return touched


def _add_tallies(step_deltas, form_deltas) -> None:
    bulkdb.add_to_counters(
        StepTally._meta.db_table, ("batch_id", "step_id", "college_id"), ("not_required", "pending", "passed"),
        {k: tuple(v) for k, v in step_deltas.items()},
    )
    bulkdb.add_to_counters(
        FormTally._meta.db_table, ("batch_id", "college_id"), ("forms", "completed"),
        {k: tuple(v) for k, v in form_deltas.items()},
    )


def _notify_final_handlers(batch, by_id, forms, cascaded, why) -> None:
    """Tell the final step's handlers that passed forms returned to pending (Rule 2)."""
    final_id = cascaded[0][1].step_id
    # Forms per person, not per grant: a counselor with a college grant and a "my students"
    # grant reaching the same student hears of that student once.
    recipients: dict[int, set[int]] = defaultdict(set)
    day = scope.today()
    for grant in Grant.objects.filter(batch=batch, step_id=final_id):
        if not grant.active_on(day):
            continue  # an expired grant's holder no longer handles the step
        for form_id, _change in cascaded:
            college_id, counselor_id, _ = forms[form_id]
            if (
                grant.scope == "school"
                or (grant.scope == "college" and grant.college_id == college_id)
                or (grant.scope == "mine" and counselor_id == grant.user_id)
            ):
                recipients[grant.user_id].add(form_id)
    title = f"“{by_id[final_id].title}”退回未办理"
    for user_id, form_ids in recipients.items():
        count = len(form_ids)
        notify.send([user_id], title, f"批次“{batch.name}”中 {count} 名学生：{why}，"
                    f"其“{by_id[final_id].title}”已退回未办理，请在其他必办环节通过后再办理。")


def _summary_event(actor, batch, step, outcome, now) -> None:
    Event.objects.create(
        at=now, actor_id=actor.user_id, action="clearance.bulk.applied", batch=batch, step=step,
        source=actor.source, client_ip=actor.client_ip, group=outcome.group,
        data={"changed": len(outcome.changed), "unchanged": len(outcome.unchanged),
              "refused": [[fid, code] for fid, code, _msg in outcome.refused[:500]],
              "refused_count": len(outcome.refused)},
    )


def _refusal_event(actor, batch, step, outcome, now) -> None:
    form_id, code, message = outcome.refused[0]
    Event.objects.create(
        at=now, actor_id=actor.user_id, action="clearance.record.refused", batch=batch, step=step,
        form_id=form_id if code != "scope" else None, source=actor.source, client_ip=actor.client_ip,
        note=message[:255], group=outcome.group, data={"code": code, "form_id": form_id},
    )


# ---------------------------------------------------------------------------------------------
# configuration changes (the console): audit, and keeping existing forms true to a changed category


def log(actor: Actor, action: str, *, batch: Batch | None = None, note: str = "", data: dict | None = None) -> Event:
    """One audit event for a configuration change (dotted code, e.g. console.step.updated).

    Steps are named in `data`, never by the step column: a step without records may be deleted
    later, and an append-only event must not hold a foreign key that would then dangle.
    """
    return Event.objects.create(
        actor_id=actor.user_id, action=action, batch=batch, source=actor.source,
        client_ip=actor.client_ip, note=note[:255], data=data or {},
    )


def add_step_records(actor: Actor, step: Step) -> int:
    """Give every existing form of the step's category a record of this new step.

    Each record starts in its initial state (applicability); counters follow; a complete form
    whose new record counts becomes incomplete, and a passed final step returns to pending when
    the new step is a required prerequisite (Rule 2). Returns the number of records created.
    """
    created = 0
    for batch in Batch.objects.filter(category_id=step.category_id).select_related("category"):
        created += _add_step_records_in(actor, batch, step)
    return created


def _add_step_records_in(actor: Actor, batch: Batch, step: Step) -> int:
    step_infos = _step_infos(batch.category_id)
    rule = batch.category.completion_rule
    now = timezone.now()
    group = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Form.objects.filter(batch=batch).exclude(records__step=step).order_by("id").values_list("id", flat=True)
        )
        if not ids:
            return 0
        forms = _lock_forms(ids)
        attributes = _student_attributes(ids)
        initial = {fid: rules.initial_state(step.condition, attributes[fid]) for fid in ids}
        bulkdb.insert(
            Record._meta.db_table, ("form_id", "step_id", "state", "note", "source", "reason"),
            ((fid, step.id, initial[fid], "", "", "") for fid in ids),
        )
        step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        for fid in ids:
            step_deltas[(batch.id, step.id, forms[fid][0])][_COUNTER_INDEX[initial[fid]]] += 1
        states = _load_states(ids)
        # Completion first (the new record may make a complete form incomplete), so that the
        # cascade below starts from the right completion state.
        form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        reopened = []
        for fid in ids:
            college_id, counselor_id, completed_at = forms[fid]
            done = rules.is_complete(rule, step_infos, {s: st for s, (_r, st, _src) in states[fid].items()})
            if completed_at is not None and not done:
                reopened.append(fid)
                forms[fid] = (college_id, counselor_id, None)
                form_deltas[(batch.id, college_id)][1] -= 1
        if reopened:
            bulkdb.update_where_in(Form._meta.db_table, {"completed_at": None}, reopened)
        _add_tallies(step_deltas, form_deltas)
        changes = []
        final = rules.final_step(step_infos)
        for fid in ids:
            form_states = {s: st for s, (_r, st, _src) in states[fid].items()}
            if final and form_states.get(final.id) == State.PASSED and rules.gate_blockers(step_infos, form_states):
                changes.append((fid, Change(final.id, State.PASSED, State.PENDING, cascade=True), None))
        _commit(actor, batch, step_infos, forms, states, changes, group, now, why=f"新增必办环节“{step.title}”")
        mark_forms_changed(ids)  # every one of these forms shows a new step
        Event.objects.create(
            at=now, actor_id=actor.user_id, action="clearance.step.records_added", batch=batch, step=step,
            source=actor.source, client_ip=actor.client_ip, group=group,
            data={"records": len(ids), "pending": sum(1 for s in initial.values() if s == State.PENDING),
                  "forms_reopened": len(reopened), "final_reopened": len(changes)},
        )
    return len(ids)


def refresh_completion(actor: Actor, batch: Batch) -> int:
    """Recompute every form's completion after a step's required flag or the rule changed.

    Records do not change here (reapply_conditions handles applicability and the final gate);
    only completion times and the form counters. Returns how many forms changed.
    """
    step_infos = _step_infos(batch.category_id)
    rule = batch.category.completion_rule
    now = timezone.now()
    with transaction.atomic():
        ids = list(Form.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
        forms = _lock_forms(ids)
        states = _load_states(ids)
        completed, reopened = [], []
        form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for fid in ids:
            college_id, _counselor, completed_at = forms[fid]
            done = rules.is_complete(rule, step_infos, {s: st for s, (_r, st, _src) in states[fid].items()})
            if done and completed_at is None:
                completed.append(fid)
                form_deltas[(batch.id, college_id)][1] += 1
            elif not done and completed_at is not None:
                reopened.append(fid)
                form_deltas[(batch.id, college_id)][1] -= 1
        if completed:
            bulkdb.update_where_in(Form._meta.db_table, {"completed_at": now}, completed)
        if reopened:
            bulkdb.update_where_in(Form._meta.db_table, {"completed_at": None}, reopened)
        mark_forms_changed(completed + reopened)
        _add_tallies({}, form_deltas)
        if completed or reopened:
            Event.objects.create(
                at=now, actor_id=actor.user_id, action="clearance.completion.recomputed", batch=batch,
                source=actor.source, client_ip=actor.client_ip,
                data={"completed": len(completed), "reopened": len(reopened)},
            )
    return len(completed) + len(reopened)


# ---------------------------------------------------------------------------------------------
# undo of one bulk action or import (an audit group), replayed through the writer

UNDOABLE_ACTIONS = ("clearance.record.passed", "clearance.record.revoked", "clearance.record.reopened")


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
        raise UndoRefused("该操作组没有可撤销的环节状态变更", "nothing")
    if Event.objects.filter(action="clearance.group.undone", data__group=str(group)).exists():
        raise UndoRefused("该操作组已撤销过", "done")
    if any(e.action not in UNDOABLE_ACTIONS for e in events):
        raise UndoRefused("该操作组包含适用条件的变化，不能撤销：请修改学生信息或环节的适用条件", "applicability")
    original: dict[int, Event] = {}
    for e in events:
        original.setdefault(e.record_id, e)  # the first event of a record holds its state before
    undo = Outcome(group=uuid.uuid4())
    admin = Actor(user=actor.user, source=Source.ADMIN, client_ip=actor.client_ip)
    note = f"撤销操作组 {group}"
    with transaction.atomic():
        _lock_forms(sorted({e.form_id for e in events}))
        later = Event.objects.filter(record_id__in=list(original), id__gt=events[-1].id).exclude(group=group)
        touched = sorted(set(later.values_list("form__student__student_number", "form__student__name")))
        if touched:
            names = [f"{number} {name}" for number, name in touched]
            raise UndoRefused(f"之后又有 {len(names)} 名学生的相关环节被更改，不能撤销", "later", names)
        batches = {b.id: b for b in Batch.objects.filter(id__in={e.batch_id for e in events})
                   .select_related("category")}
        steps = {s.id: s for s in Step.objects.filter(id__in={e.step_id for e in events})}
        by_step: dict[tuple[int, int], list[Item]] = defaultdict(list)
        for e in original.values():
            by_step[(e.batch_id, e.step_id)].append(Item(e.form_id, e.from_state, note))
        # Prerequisites first, the final step last: its gate must see them passed again.
        for batch_id, step_id in sorted(by_step, key=lambda k: (steps[k[1]].is_final, k)):
            outcome = apply_many(admin, batches[batch_id], steps[step_id], by_step[(batch_id, step_id)],
                                 group=undo.group)
            if outcome.refused:
                _fid, _code, message = outcome.refused[0]
                raise UndoRefused(f"撤销未完成，已全部撤回：{message}", "refused")
            undo.changed += outcome.changed
            undo.unchanged += outcome.unchanged
        Event.objects.create(
            actor_id=admin.user_id, action="clearance.group.undone", source=Source.ADMIN,
            client_ip=admin.client_ip, group=undo.group, note=note[:255],
            batch_id=events[0].batch_id, data={"group": str(group), "records": len(original)},
        )
    return undo
