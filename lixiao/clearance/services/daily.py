"""The daily tallies recounted from the audit trail: what the tests compare the writer's tallies
with, and the rebuild of existing history (migration 0008, manage.py rebuild_daily_tallies).

Records are replayed in the order the writer wrote them: each record appears when its form was
enrolled (or when its step was added to a category in use), in the state its first audit event
starts from (or its current state when it has none), then takes every event's change; a form's
completion is settled after each of the writer's transactions (events sharing a group and a
time), with the completion rule, as the writer settles it. Completion changed by a later change
of the rule or of a step's "required" leaves no per-form event: such a form counts on the day of
its completion time (complete now) or of the recomputation (not complete now), so the daily rows
always add up to the running tallies.
"""

from collections import defaultdict
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance import rules
from lixiao.clearance.models import (
    Batch,
    DailyFormTally,
    DailyStepTally,
    Event,
    Form,
    Record,
    Step,
)
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.versions import categories_changed

MODELS = SimpleNamespace(
    Batch=Batch,
    Step=Step,
    Form=Form,
    Record=Record,
    Event=Event,
    DailyStepTally=DailyStepTally,
    DailyFormTally=DailyFormTally,
)
NR, PASSED = "not_required", "passed"


def stored(batch_id: int, models=MODELS) -> tuple[dict, dict]:
    """The daily tallies as kept: ({(step, day): {applicable, passed, writes}},
    {(college, day): {forms, completed}}), rows of zeros left out."""
    steps = {
        (sid, day): {"applicable": a, "passed": p, "writes": w}
        for sid, day, a, p, w in models.DailyStepTally.objects.filter(
            batch_id=batch_id
        ).values_list("step_id", "day", "applicable", "passed", "writes")
        if a or p or w
    }
    forms = {
        (cid, day): {"forms": n, "completed": c}
        for cid, day, n, c in models.DailyFormTally.objects.filter(batch_id=batch_id).values_list(
            "college_id", "day", "forms", "completed"
        )
        if n or c
    }
    return steps, forms


def recount(batch_id: int, models=MODELS) -> tuple[dict, dict]:
    """The daily tallies replayed from the forms, records and audit events (see the module)."""
    batch = models.Batch.objects.select_related("category").get(pk=batch_id)
    rule = batch.category.completion_rule
    infos = [
        rules.StepInfo(sid, title, required, is_final)
        for sid, title, required, is_final in models.Step.objects.filter(
            category_id=batch.category_id
        )
        .order_by("order", "id")
        .values_list("id", "title", "required", "is_final")
    ]
    day = timezone.localdate
    forms = {
        fid: (college_id, created_at, completed_at)
        for fid, college_id, created_at, completed_at in models.Form.objects.filter(
            batch_id=batch_id
        ).values_list("id", "college_id", "created_at", "completed_at")
    }
    records = list(
        models.Record.objects.filter(form__batch_id=batch_id).values_list(
            "id", "form_id", "step_id", "state"
        )
    )
    events = list(
        models.Event.objects.filter(batch_id=batch_id, record__isnull=False)
        .order_by("id")
        .values_list("record_id", "form_id", "step_id", "at", "from_state", "to_state", "group")
    )
    step_added = dict(
        models.Event.objects.filter(batch_id=batch_id, action="clearance.step.records_added")
        .order_by("id")
        .values_list("step_id", "at")
    )
    recomputed = (
        models.Event.objects.filter(batch_id=batch_id, action="clearance.completion.recomputed")
        .order_by("-id")
        .values_list("at", flat=True)
        .first()
    )

    first_state: dict[int, str] = {}
    for record_id, _fid, _sid, _at, from_state, _to, _group in events:
        first_state.setdefault(record_id, from_state)
    # What happened, in order: (time, 0, form) an enrolment and the records it made, (time, 1,
    # time) the records a step added to a category in use made, (time, 2, key) one
    # transaction's events. Equal times keep that order.
    enrolled: dict[int, list] = defaultdict(list)  # form → records made with it
    added_then: dict = defaultdict(list)  # time → records a step's addition made
    for record_id, fid, sid, state in records:
        created = forms[fid][1]
        added = step_added.get(sid)
        born = (fid, sid, first_state.get(record_id, state))
        if added is not None and created < added:
            added_then[added].append(born)
        else:
            enrolled[fid].append(born)
    transactions: dict[tuple, list] = {}
    for _record_id, fid, sid, at, from_state, to_state, group in events:
        transactions.setdefault((group, at), []).append((fid, sid, from_state, to_state))
    timeline: list[tuple] = [(created, 0, fid) for fid, (_c, created, _d) in forms.items()]
    timeline += [(at, 1, at) for at in added_then]
    timeline += [(at, 2, (group, at)) for group, at in transactions]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))

    step_rows: dict[tuple, dict] = defaultdict(lambda: {"applicable": 0, "passed": 0, "writes": 0})
    form_rows: dict[tuple, dict] = defaultdict(lambda: {"forms": 0, "completed": 0})
    states: dict[int, dict[int, str]] = defaultdict(dict)
    complete: dict[int, bool] = {}

    def settle(form_ids, on):
        for fid in form_ids:
            present = [s for s in infos if s.id in states[fid]]
            done = rules.is_complete(rule, present, states[fid])
            if done != complete.get(fid, False):
                form_rows[(forms[fid][0], on)]["completed"] += 1 if done else -1
            complete[fid] = done

    def appear(born, on):
        for fid, sid, state in born:
            states[fid][sid] = state
            row = step_rows[(sid, on)]
            row["applicable"] += state != NR
            row["passed"] += state == PASSED
            row["writes"] += 1

    for at, kind, what in timeline:
        on = day(at)
        if kind == 0:
            form_rows[(forms[what][0], on)]["forms"] += 1
            appear(enrolled.get(what, ()), on)
            settle([what], on)
        elif kind == 1:
            appear(added_then[what], on)
            settle({fid for fid, _sid, _state in added_then[what]}, on)
        else:
            touched = set()
            for fid, sid, from_state, to_state in transactions[what]:
                states[fid][sid] = to_state
                row = step_rows[(sid, on)]
                row["applicable"] += (to_state != NR) - (from_state != NR)
                row["passed"] += (to_state == PASSED) - (from_state == PASSED)
                row["writes"] += 1
                touched.add(fid)
            settle(touched, on)

    # Completion the replay cannot see (a later change of the rule or of "required").
    for fid, (college_id, _created, completed_at) in forms.items():
        now_done = completed_at is not None
        if now_done != complete.get(fid, False):
            on = day(completed_at) if now_done else day(recomputed or timezone.now())
            form_rows[(college_id, on)]["completed"] += 1 if now_done else -1

    return (
        {k: v for k, v in step_rows.items() if any(v.values())},
        {k: v for k, v in form_rows.items() if any(v.values())},
    )


def _replace(batch_id: int, steps: dict, forms: dict, models) -> None:
    models.DailyStepTally.objects.filter(batch_id=batch_id).delete()
    models.DailyFormTally.objects.filter(batch_id=batch_id).delete()
    sqlbulk.insert(
        models.DailyStepTally._meta.db_table,
        ("batch_id", "step_id", "day", "applicable", "passed", "writes"),
        [
            (batch_id, sid, sqlbulk.adapt(on), v["applicable"], v["passed"], v["writes"])
            for (sid, on), v in sorted(steps.items())
        ],
    )
    sqlbulk.insert(
        models.DailyFormTally._meta.db_table,
        ("batch_id", "college_id", "day", "forms", "completed"),
        [
            (batch_id, cid, sqlbulk.adapt(on), v["forms"], v["completed"])
            for (cid, on), v in sorted(forms.items())
        ],
    )


def fill(models=MODELS) -> None:
    """Every batch's daily tallies recounted (the migration that adds them runs this)."""
    for batch_id in models.Batch.objects.order_by("id").values_list("id", flat=True):
        _replace(batch_id, *recount(batch_id, models), models)


def rebuild_daily_tallies(actor: Actor, batch: Batch, dry_run: bool = False) -> dict:
    """Replace a batch's daily tallies by the recount; returns what differed.

    The office's (or the system's) to run, in one transaction, audited as
    clearance.tallies.rebuilt. The category's changed_at moves so that no page keyed by the
    old tallies (the follow-up page, by their sums) is served again.
    """
    require_office(actor)
    with transaction.atomic():
        steps, forms = recount(batch.id)
        kept_steps, kept_forms = stored(batch.id)
        differ = {
            "step_rows": sum(
                1 for k in steps.keys() | kept_steps.keys() if steps.get(k) != kept_steps.get(k)
            ),
            "form_rows": sum(
                1 for k in forms.keys() | kept_forms.keys() if forms.get(k) != kept_forms.get(k)
            ),
        }
        if dry_run:
            return differ
        _replace(batch.id, steps, forms, MODELS)
        categories_changed([batch.category_id])
        audit.log(
            actor,
            "clearance.tallies.rebuilt",
            batch=batch,
            data={**differ, "steps": len(steps), "forms": len(forms)},
        )
    return differ
