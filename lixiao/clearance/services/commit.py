"""The writer's machinery: scope and window checks, locks, loading states, and one commit
of records, audit events, completion, tallies and notifications."""

from collections import Counter, defaultdict
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao import sqlbulk
from lixiao.clearance import hooks, rules, scope
from lixiao.clearance.models import (
    Batch,
    DailyFormTally,
    DailyStepTally,
    Form,
    FormTally,
    Record,
    Source,
    State,
    Step,
    StepTally,
)
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, Archived, Closed, NotFound

_TALLY_INDEX = {State.NOT_REQUIRED: 0, State.PENDING: 1, State.PASSED: 2}
_ACTIONS = {
    (State.PENDING, State.PASSED): "clearance.record.passed",
    (State.PASSED, State.PENDING): "clearance.record.revoked",
    (State.NOT_REQUIRED, State.PENDING): "clearance.record.applicable",
    (State.PENDING, State.NOT_REQUIRED): "clearance.record.not_applicable",
    (State.PASSED, State.NOT_REQUIRED): "clearance.record.not_applicable",
}


def _archived(batch: Batch) -> Archived:
    when = f"{timezone.localtime(batch.archived_at):%Y-%m-%d}" if batch.archived_at else ""
    return Archived(
        _("批次“%(name)s”已于 %(date)s 归档，离校单只读，不能再更改（管理员也不能）")
        % {"name": batch.name, "date": when},
        "archived",
    )


def require_writable(batch: Batch) -> Batch:
    """Refuse any change on an archived batch's forms, for everyone (the writer's one rule).

    Call it inside the transaction that writes: it reads the batch again under a share lock
    (PostgreSQL FOR SHARE; SQLite's IMMEDIATE transactions already serialise writers), so an
    archive that committed first is seen, and one that comes second waits for this change.
    Returns the batch as read.
    """
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    table = connection.ops.quote_name(Batch._meta.db_table)
    current = next(
        iter(Batch.objects.raw(f"SELECT * FROM {table} WHERE id = %s{lock}", [batch.pk])), None
    )
    if current is None:
        raise NotFound
    if current.archived_at is not None:
        raise _archived(current)
    return current


def _check_open(actor: Actor, batch: Batch) -> None:
    if batch.archived_at is not None:
        raise _archived(batch)  # before anyone's exemption: archived is read-only for all
    if actor.trusted or scope.is_office(actor.user):
        return
    if not batch.enabled:
        raise NotFound
    state = batch.window_state()
    if state == "not_yet":
        raise Closed(
            _("批次“%(name)s”尚未开始办理（%(opens)s 开放）")
            % {"name": batch.name, "opens": f"{timezone.localtime(batch.opens_at):%Y-%m-%d %H:%M}"},
            "window",
        )
    if state == "closed":
        raise Closed(
            _("批次“%(name)s”已于 %(closes)s 结束办理，如需更改请联系学生离校工作主管部门")
            % {
                "name": batch.name,
                "closes": f"{timezone.localtime(batch.closes_at):%Y-%m-%d %H:%M}",
            },
            "window",
        )


def _allowed_forms(actor: Actor, batch: Batch, step: Step, form_ids: list[int]) -> set[int]:
    """The forms among these on which the actor may change the step (the gate's filter)."""
    q = Q(batch=batch) if actor.trusted else scope.handle_filter(actor.user, batch, step)
    allowed: set[int] = set()
    for part in sqlbulk.chunks(form_ids):
        allowed.update(Form.objects.filter(q, id__in=part).values_list("id", flat=True))
    return allowed


def _lock_forms(form_ids: list[int], lock: bool = True) -> dict[int, tuple]:
    """Lock the forms (in id order, so writers never deadlock) and read what the writer needs.

    The lock serialises every change on one form: a final-step pass and a prerequisite
    revoke cannot interleave (Rule 2 under concurrency). SQLite's IMMEDIATE transactions
    already serialise writers, and Django leaves FOR UPDATE out there. A dry run reads
    without locking (it writes nothing).
    """
    forms: dict[int, tuple] = {}
    for part in sqlbulk.chunks(sorted(form_ids)):
        qs = Form.objects.filter(id__in=part).order_by("id")
        if lock:
            qs = qs.select_for_update()
        for fid, college_id, counselor_id, completed_at in qs.values_list(
            "id", "college_id", "counselor_id", "completed_at"
        ):
            forms[fid] = (college_id, counselor_id, completed_at)
    return forms


def _load_states(form_ids: list[int]) -> dict[int, dict[int, tuple[int, str, str]]]:
    # Plain SQL: a 10,000-form bulk pass reads 120,000 records here, and ints and strings
    # need none of the ORM's per-row conversions.
    states: dict[int, dict[int, tuple[int, str, str]]] = defaultdict(dict)
    for rid, fid, sid, state, source in sqlbulk.select_in(
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
    for part in sqlbulk.chunks(form_ids):
        for fid, stype, political, college, major, gender, dorm in Form.objects.filter(
            id__in=part
        ).values_list(
            "id",
            "student__student_type",
            "student__political_status",
            "student__college__code",
            "student__major",
            "student__gender",
            "student__dormitory",
        ):
            attrs[fid] = {
                "student_type": stype,
                "political_status": political,
                "college": college,
                "major": major,
                "gender": gender,
                "dormitory": dorm,
            }
    return attrs


def _commit(actor, batch, step_infos, forms, states, changes, group, now, why) -> set[int]:
    """Write planned changes: records, events, completion, tallies, notifications.

    `why` says what sent a passed final step back to pending, for its audit note and notice.
    Returns the forms touched; the caller marks them changed (with any others) in one UPDATE.
    """
    if not changes:
        return set()
    by_id = {s.id: s for s in step_infos}
    updates: dict[tuple, list[int]] = defaultdict(list)
    events = []
    step_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    writes: Counter = Counter()  # (batch id, step id) → records written
    touched: set[int] = set()
    now_db, group_db = sqlbulk.adapt(now), sqlbulk.adapt(group)
    # Read once: request.user is a lazy object, and 10,000 changes asked it 30,000 times.
    user_id, actor_source, client_ip, batch_id = (
        actor.user_id,
        actor.source,
        actor.client_ip,
        batch.id,
    )
    for form_id, change, item in changes:
        record_id, _state, _source = states[form_id][change.step_id]
        college_id = forms[form_id][0]
        if change.cascade:
            note = f"{why}，本环节退回未办理"
            key = (change.to_state, None, Source.CASCADE, note[:255], None)
            action, source = "clearance.record.reopened", Source.CASCADE
        else:
            note = (item.note if item else "")[:255]
            reason = item.reason if item else None
            key = (change.to_state, user_id, actor_source, note, reason)
            action, source = _ACTIONS[(change.from_state, change.to_state)], actor_source
        updates[key].append(record_id)
        events.append(
            (
                now_db,
                user_id,
                action,
                batch_id,
                form_id,
                record_id,
                change.step_id,
                change.from_state,
                change.to_state,
                source,
                note,
                client_ip,
                group_db,
                "{}",
            )
        )
        deltas = step_deltas[(batch_id, change.step_id, college_id)]
        deltas[_TALLY_INDEX[change.from_state]] -= 1
        deltas[_TALLY_INDEX[change.to_state]] += 1
        writes[(batch_id, change.step_id)] += 1
        states[form_id][change.step_id] = (record_id, change.to_state, source)
        touched.add(form_id)

    for (to_state, handled_by, source, note, reason), record_ids in updates.items():
        values = {
            "state": to_state,
            "handled_by_id": handled_by,
            "handled_at": now,
            "source": source,
            "note": note,
        }
        if reason is not None:
            values["reason"] = reason[:255]
        sqlbulk.update_where_in(Record._meta.db_table, values, record_ids)
    audit.write_changes(events)

    _completed, _reopened, form_deltas = _settle_completion(
        batch, step_infos, forms, states, touched, now
    )
    _add_tallies(step_deltas, form_deltas, now, writes)
    # One notice per student whose steps changed (notify writes them in bulk, in this transaction).
    hooks.announce(hooks.StepsChanged(batch, step_infos, changes, at=now))

    cascaded = [(fid, c) for fid, c, _item in changes if c.cascade]
    if cascaded:
        _notify_final_handlers(batch, by_id, forms, cascaded, why)
    return touched


def _settle_completion(batch, step_infos, forms, states, form_ids, now):
    """Set or clear completed_at where the completion rule (Rule 3) now says otherwise.

    Updates `forms` in place and returns (completed, reopened, form tally deltas).
    """
    rule = batch.category.completion_rule
    completed, reopened = [], []
    form_deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for form_id in form_ids:
        college_id, counselor_id, completed_at = forms[form_id]
        done = rules.is_complete(
            rule, step_infos, {sid: st for sid, (_r, st, _s) in states[form_id].items()}
        )
        if done and completed_at is None:
            completed.append(form_id)
            forms[form_id] = (college_id, counselor_id, now)
            form_deltas[(batch.id, college_id)][1] += 1
        elif not done and completed_at is not None:
            reopened.append(form_id)
            forms[form_id] = (college_id, counselor_id, None)
            form_deltas[(batch.id, college_id)][1] -= 1
    if completed:
        sqlbulk.update_where_in(Form._meta.db_table, {"completed_at": now}, completed)
    if reopened:
        sqlbulk.update_where_in(Form._meta.db_table, {"completed_at": None}, reopened)
    return completed, reopened, form_deltas


def _add_tallies(step_deltas, form_deltas, at: datetime, writes=None) -> None:
    """Add the changes to the running tallies and to the tallies of the day (local) of `at`.

    step_deltas: (batch, step, college) → [not_required, pending, passed];
    form_deltas: (batch, college) → [forms, completed]; writes: (batch, step) → records written.
    The daily rows are the same deltas without the college (steps) and with the day, so that
    summed over the days they equal the running tallies.
    """
    sqlbulk.upsert_add(
        StepTally._meta.db_table,
        ("batch_id", "step_id", "college_id"),
        ("not_required", "pending", "passed"),
        {k: tuple(v) for k, v in step_deltas.items()},
    )
    sqlbulk.upsert_add(
        FormTally._meta.db_table,
        ("batch_id", "college_id"),
        ("forms", "completed"),
        {k: tuple(v) for k, v in form_deltas.items()},
    )
    day = sqlbulk.adapt(timezone.localdate(at))
    daily_steps: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (batch_id, step_id, _college_id), (_not_required, pending, passed) in step_deltas.items():
        row = daily_steps[(batch_id, step_id, day)]
        row[0] += pending + passed
        row[1] += passed
    for (batch_id, step_id), count in (writes or {}).items():
        daily_steps[(batch_id, step_id, day)][2] += count
    sqlbulk.upsert_add(
        DailyStepTally._meta.db_table,
        ("batch_id", "step_id", "day"),
        ("applicable", "passed", "writes"),
        {k: tuple(v) for k, v in daily_steps.items()},
    )
    sqlbulk.upsert_add(
        DailyFormTally._meta.db_table,
        ("batch_id", "college_id", "day"),
        ("forms", "completed"),
        {(b, c, day): tuple(v) for (b, c), v in form_deltas.items()},
    )


def _notify_final_handlers(batch, by_id, forms, cascaded, why) -> None:
    """Tell the final step's handlers that passed forms returned to pending (Rule 2)."""
    final_id = cascaded[0][1].step_id
    reached = scope.handlers(
        batch, final_id, ((fid, forms[fid][0], forms[fid][1]) for fid, _change in cascaded)
    )
    title = f"“{by_id[final_id].title}”退回未办理"
    for user_id, form_ids in reached.items():
        count = len(form_ids)
        hooks.announce(
            hooks.Notice(
                [user_id],
                title,
                f"批次“{batch.name}”中 {count} 名学生：{why}，"
                f"其“{by_id[final_id].title}”已退回未办理，请在其他必办环节通过后再办理。",
            )
        )
