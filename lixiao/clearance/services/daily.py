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
from lixiao.clearance.services.commit import require_writable
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


CHUNK = 2000  # forms replayed together: each form's history is its own, so memory stays small


def recount(batch_id: int, models=MODELS) -> tuple[dict, dict]:
    """The daily tallies replayed from the forms, records and audit events (see the module).

    A form's records and completion depend only on its own events, so forms are replayed a
    chunk at a time and their days added up: memory follows the chunk, not the batch.
    """
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
    replay = _Replay(rule, infos, step_added, recomputed)
    forms = list(
        models.Form.objects.filter(batch_id=batch_id)
        .order_by("id")
        .values_list("id", "college_id", "created_at", "completed_at")
    )
    for start in range(0, len(forms), CHUNK):
        chunk = forms[start : start + CHUNK]
        ids = [form[0] for form in chunk]
        records: dict[int, list] = defaultdict(list)
        for record_id, fid, sid, state in models.Record.objects.filter(form_id__in=ids).values_list(
            "id", "form_id", "step_id", "state"
        ):
            records[fid].append((record_id, sid, state))
        events: dict[int, list] = defaultdict(list)
        for row in (
            models.Event.objects.filter(form_id__in=ids, record__isnull=False)
            .order_by("id")
            .values_list("form_id", "record_id", "step_id", "at", "from_state", "to_state", "group")
        ):
            events[row[0]].append(row[1:])
        for form in chunk:
            replay.form(*form, records[form[0]], events[form[0]])
    return (
        {k: v for k, v in replay.steps.items() if any(v.values())},
        {k: v for k, v in replay.forms.items() if any(v.values())},
    )


class _Replay:
    """One form's history at a time, added to the day rows."""

    def __init__(self, rule, infos, step_added, recomputed):
        self.rule, self.infos = rule, infos
        self.step_added, self.recomputed = step_added, recomputed
        self.steps: dict[tuple, dict] = defaultdict(
            lambda: {"applicable": 0, "passed": 0, "writes": 0}
        )
        self.forms: dict[tuple, dict] = defaultdict(lambda: {"forms": 0, "completed": 0})

    def form(self, fid, college_id, created, completed_at, records, events) -> None:
        day = timezone.localdate
        first_state: dict[int, str] = {}
        for record_id, _sid, _at, from_state, _to, _group in events:
            first_state.setdefault(record_id, from_state)
        # What happened to the form, in order: (time, 0, …) its enrolment with the records it
        # made, (time, 1, …) records a step added to the category later made, (time, 2, …) one
        # transaction's events (they share a group and a time). Equal times keep that order.
        born: dict = defaultdict(list)
        for record_id, sid, state in records:
            added = self.step_added.get(sid)
            at = added if added is not None and created < added else created
            born[at].append((sid, first_state.get(record_id, state)))
        transactions: dict[tuple, list] = {}
        for _record_id, sid, at, from_state, to_state, group in events:
            transactions.setdefault((group, at), []).append((sid, from_state, to_state))
        timeline = [(at, 0 if at == created else 1, born[at]) for at in born]
        if created not in born:
            timeline.append((created, 0, []))
        timeline += [(at, 2, changes) for (_group, at), changes in transactions.items()]
        timeline.sort(key=lambda entry: (entry[0], entry[1]))

        states: dict[int, str] = {}
        done = False
        for at, kind, what in timeline:
            on = day(at)
            if kind == 2:
                for sid, from_state, to_state in what:
                    states[sid] = to_state
                    row = self.steps[(sid, on)]
                    row["applicable"] += (to_state != NR) - (from_state != NR)
                    row["passed"] += (to_state == PASSED) - (from_state == PASSED)
                    row["writes"] += 1
            else:
                if kind == 0:
                    self.forms[(college_id, on)]["forms"] += 1
                for sid, state in what:
                    states[sid] = state
                    row = self.steps[(sid, on)]
                    row["applicable"] += state != NR
                    row["passed"] += state == PASSED
                    row["writes"] += 1
            present = [s for s in self.infos if s.id in states]
            now_done = rules.is_complete(self.rule, present, states)
            if now_done != done:
                self.forms[(college_id, on)]["completed"] += 1 if now_done else -1
                done = now_done
        # Completion the replay cannot see (a later change of the rule or of "required").
        if (completed_at is not None) != done:
            on = day(completed_at) if completed_at else day(self.recomputed or timezone.now())
            self.forms[(college_id, on)]["completed"] += 1 if completed_at else -1


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
        # An archived batch's counts are final, and its audit trail may be purged since.
        require_writable(batch)
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
