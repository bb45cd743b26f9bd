"""Scoped reads shared by every surface: search, one form, statistics.

Everything starts from `scope` (the one access gate) so lists, exports, statistics and the
API see exactly what the writer would let the same person change or read.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from lixiao.clearance import rules, scope
from lixiao.clearance.models import (
    Batch,
    Event,
    Form,
    FormTally,
    Record,
    Scope,
    State,
    Step,
    StepTally,
)
from lixiao.directory import idnumbers
from lixiao.directory.models import POLITICAL_STATUSES, Student, StudentType

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_DIGITS = re.compile(r"^\d+$")


@dataclass
class Filters:
    """Search filters; each empty value means 'any'."""

    q: str = ""
    college_id: int | None = None
    major: str = ""
    class_name: str = ""
    student_type: str = ""
    political_status: str = ""
    step_states: dict[int, str] = field(default_factory=dict)  # step id → state
    completed: bool | None = None


MAX_QUERY = 64  # the search box's limit (学号, 姓名 or 身份证件号)


def parse_filters(params, steps, colleges: list[int] | None = None) -> Filters:
    """Search parameters (a query string: q, college, major, class_name, student_type,
    political_status, completed=yes|no, s<step id>=state) as Filters, for every surface.

    Lenient like a search box: a value that is not valid here counts as "any" (the desk's
    form shows its error beside the field). colleges: the college ids the person's reach is
    limited to (Reach.colleges), None for any.
    """

    def text(name: str) -> str:
        value = str(params.get(name) or "").strip()
        # PostgreSQL refuses a NUL in text; no 学号 or name holds one.
        return value if len(value) <= MAX_QUERY and "\x00" not in value else ""

    college = text("college")
    college_id = int(college) if college.isdigit() else None
    if colleges is not None and college_id not in colleges:
        college_id = None
    student_type = text("student_type")
    political = text("political_status")
    step_states = {}
    for step in steps:
        state = text(f"s{step.id}")
        if state in State.values:
            step_states[step.id] = state
    return Filters(
        q=text("q"),
        college_id=college_id,
        major=text("major"),
        class_name=text("class_name"),
        student_type=student_type if student_type in StudentType.values else "",
        political_status=political if political in POLITICAL_STATUSES else "",
        step_states=step_states,
        completed={"yes": True, "no": False}.get(text("completed")),
    )


def student_forms(user) -> QuerySet[Form]:
    return scope.student_forms(user).select_related("batch", "batch__category")


def is_id_number(q: str) -> bool:
    """Whether a search text is a full ID number (searched by its keyed hash, never echoed)."""
    return bool(_ID_NUMBER.match(q.strip()))


def _text_q(q: str) -> Q:
    q = q.strip()
    if not q:
        return Q()
    if _ID_NUMBER.match(q):
        return Q(student__id_number_hash__in=idnumbers.lookup_hashes(q))
    if _DIGITS.match(q):
        # A range instead of LIKE 'q%': it uses the unique index on both engines.
        upper = q[:-1] + chr(ord(q[-1]) + 1)
        return Q(student__student_number__gte=q, student__student_number__lt=upper)
    # 姓名 contains cannot use an index: scan the students' names once, then reach forms by the
    # (batch, student) index, instead of scanning inside a join for the page and again for its count.
    ids = list(
        Student.objects.filter(name__contains=q).values_list("id", flat=True)[: _NAME_IDS + 1]
    )
    if len(ids) > _NAME_IDS:
        return Q(student__name__contains=q)
    return Q(student_id__in=ids)


_NAME_IDS = 5000


def search(reach: scope.Reach, filters: Filters) -> QuerySet[Form]:
    """Within the person's reach: 学号 exact/prefix, 姓名 contains, 身份证件号 exact, and the filters."""
    qs = reach.forms().filter(_text_q(filters.q))
    if filters.college_id:
        qs = qs.filter(college_id=filters.college_id)
    for name in ("major", "class_name", "student_type", "political_status"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{f"student__{name}": value})
    for step_id, state in filters.step_states.items():
        # A correlated EXISTS probes the (form, step) unique index for each candidate form; an
        # IN list made SQLite materialise every pending record of the step (190 ms at 50,000).
        qs = qs.filter(
            Exists(Record.objects.filter(form_id=OuterRef("pk"), step_id=step_id, state=state))
        )
    if filters.completed is True:
        qs = qs.filter(completed_at__isnull=False)
    elif filters.completed is False:
        qs = qs.filter(completed_at__isnull=True)
    return qs.select_related("student", "college").order_by("student__student_number")


def with_records(forms: QuerySet[Form], step_ids=None) -> QuerySet[Form]:
    """Attach records (optionally only some steps) in one extra query."""
    records = Record.objects.select_related("step").order_by("step__order", "step_id")
    if step_ids is not None:
        records = records.filter(step_id__in=list(step_ids))
    return forms.prefetch_related(Prefetch("records", queryset=records))


@dataclass
class Cell:
    """One of my steps on a result row."""

    title: str
    state: str
    label: str


_STATE_LABELS = dict(State.choices)


def attach_cells(forms: list[Form], steps: list[Step]) -> list[Form]:
    """Give each form `cells`: its state on each of these steps, in their order (one query).

    The result list shows only states; a prefetch of whole records with their steps costs
    more to build than the page's search itself.
    """
    states = defaultdict(dict)
    if forms and steps:
        # A plain indexed lookup of at most a page of forms: written out, it costs a tenth of
        # the ORM's building of the same statement.
        form_ids = [f.id for f in forms]
        step_ids = [s.id for s in steps]
        sql = (
            f"SELECT form_id, step_id, state FROM {Record._meta.db_table}"
            f" WHERE form_id IN ({', '.join(['%s'] * len(form_ids))})"
            f" AND step_id IN ({', '.join(['%s'] * len(step_ids))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*form_ids, *step_ids])
            for form_id, step_id, state in cursor.fetchall():
                states[form_id][step_id] = state
    for form in forms:
        mine = states[form.id]
        form.cells = [
            Cell(step.title, mine[step.id], _STATE_LABELS.get(mine[step.id], mine[step.id]))
            for step in steps
            if step.id in mine
        ]
    return forms


def form_detail(form_id: int, base: QuerySet[Form]) -> Form | None:
    """One form from an already-scoped queryset, with student, batch, records and steps."""
    forms = with_records(base.select_related("student", "batch", "batch__category", "college"))
    # The id is unique: no ORDER BY/LIMIT as .first() would add.
    return next(iter(forms.filter(pk=form_id)), None)


@dataclass
class StepStats:
    step: Step
    applicable: int
    passed: int
    pending: int

    @property
    def percent(self) -> float:
        return round(100 * self.passed / self.applicable, 1) if self.applicable else 100.0

    @property
    def overdue(self) -> bool:
        """The step's deadline has passed and students within this reach are still pending."""
        deadline = self.step.deadline
        return bool(deadline and self.pending and deadline < timezone.localdate())


def step_statistics(reach: scope.Reach, steps=None) -> list[StepStats]:
    """Per step: applicable, passed, pending within the person's reach, from maintained tallies.

    Tallies are per college; "my students" reach is counted live (a counselor's few hundred).
    """
    steps = list(steps if steps is not None else reach.steps)
    return _statistics(reach.user, {reach.batch.id: steps}, reach.grants)[reach.batch.id]


def desk_statistics(user, batches, grants=None) -> list[tuple[Batch, list[StepStats]]]:
    """step_statistics for each batch the person handles in, in a fixed number of queries.

    grants: scope.person_grants(user) when the caller already holds it.
    """
    batches = list(batches)
    wanted: dict[int, list[Step]] = {b.id: [] for b in batches}
    in_force = None
    if scope.is_office(user):
        by_category = defaultdict(list)
        for step in Step.objects.filter(category_id__in={b.category_id for b in batches}):
            by_category[step.category_id].append(step)
        for b in batches:
            wanted[b.id] = by_category[b.category_id]
    else:
        day = scope.today()
        grants = grants if grants is not None else scope.person_grants(user)
        in_force = [g for g in grants if g.batch_id in wanted and scope.in_force(g, day)]
        seen = set()
        for grant in in_force:
            if (grant.batch_id, grant.step_id) not in seen:
                seen.add((grant.batch_id, grant.step_id))
                wanted[grant.batch_id].append(grant.step)
        for steps in wanted.values():
            steps.sort(key=lambda s: (s.order, s.id))
    stats = _statistics(user, wanted, in_force)
    return [(b, stats[b.id]) for b in batches]


def _statistics(user, wanted: dict[int, list[Step]], grants) -> dict[int, list[StepStats]]:
    """Counts for the given steps of each batch (batch id → steps), within the person's reach.

    grants: the person's grants in force in these batches; None for the office (everything).
    """
    office = grants is None
    # (batch id, step id) → [whole school, colleges, my students] that the person's grants reach
    reach: dict[tuple[int, int], list] = {}
    for grant in grants or ():
        r = reach.setdefault((grant.batch_id, grant.step_id), [False, set(), False])
        if grant.scope == Scope.SCHOOL:
            r[0] = True
        elif grant.scope == Scope.COLLEGE:
            r[1].add(grant.college_id)
        else:
            r[2] = True
    everywhere = [True, set(), False]
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])  # pending, passed
    step_ids = {step.id for steps in wanted.values() for step in steps}
    tallies = StepTally.objects.filter(batch_id__in=list(wanted), step_id__in=step_ids).values_list(
        "batch_id", "step_id", "college_id", "pending", "passed"
    )
    for batch_id, step_id, college_id, pending, passed in tallies:
        r = everywhere if office else reach.get((batch_id, step_id))
        if r and (r[0] or college_id in r[1]):
            counts[(batch_id, step_id)][0] += pending
            counts[(batch_id, step_id)][1] += passed
    mine = {key for key, r in reach.items() if r[2] and not r[0]}
    if mine:
        live = (
            Record.objects.filter(
                form__batch_id__in={b for b, _ in mine},
                step_id__in={s for _, s in mine},
                form__counselor=user,
            )
            .values_list("form__batch_id", "step_id", "form__college_id")
            .annotate(
                pending=Count("id", filter=Q(state=State.PENDING)),
                passed=Count("id", filter=Q(state=State.PASSED)),
            )
            .order_by()
        )
        for batch_id, step_id, college_id, pending, passed in live:
            # Students of a college the person already reaches are counted by the tallies above.
            if (batch_id, step_id) in mine and college_id not in reach[(batch_id, step_id)][1]:
                counts[(batch_id, step_id)][0] += pending
                counts[(batch_id, step_id)][1] += passed
    result = {}
    for batch_id, steps in wanted.items():
        result[batch_id] = []
        for step in steps:
            pending, passed = counts[(batch_id, step.id)]
            result[batch_id].append(StepStats(step, pending + passed, passed, pending))
    return result


def batch_completion(batches) -> dict[int, tuple[int, int]]:
    """Forms and completed forms per batch (office list), from maintained tallies, in one query."""
    rows = (
        FormTally.objects.filter(batch__in=list(batches))
        .values_list("batch_id")
        .annotate(total=Sum("forms"), done=Sum("completed"))
        .order_by()
    )
    return {batch_id: (total, done) for batch_id, total, done in rows}


def college_statistics(batch: Batch) -> list[dict]:
    """Forms and completed forms per college (office view), from maintained tallies."""
    return list(
        FormTally.objects.filter(batch=batch)
        .values("college_id", "college__name")
        .annotate(total=Sum("forms"), done=Sum("completed"))
        .order_by("college__name")
    )


def recount(batch: Batch) -> tuple[dict, dict]:
    """Tallies recomputed from the records themselves: tests check the tallies equal these."""
    steps = {}
    for step_id, college_id, state, n in (
        Record.objects.filter(form__batch=batch)
        .values_list("step_id", "form__college_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        steps.setdefault((step_id, college_id), {"not_required": 0, "pending": 0, "passed": 0})[
            state
        ] = n
    forms = {}
    for college_id, total, done in (
        Form.objects.filter(batch=batch)
        .values_list("college_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    ):
        forms[college_id] = {"forms": total, "completed": done}
    return steps, forms


def tallies(batch: Batch) -> tuple[dict, dict]:
    steps = {
        (t.step_id, t.college_id): {
            "not_required": t.not_required,
            "pending": t.pending,
            "passed": t.passed,
        }
        for t in StepTally.objects.filter(batch=batch)
        if t.not_required or t.pending or t.passed
    }
    forms = {
        t.college_id: {"forms": t.forms, "completed": t.completed}
        for t in FormTally.objects.filter(batch=batch)
        if t.forms or t.completed
    }
    return steps, forms


def progress(form: Form) -> tuple[int, int]:
    """(passed, counted) for a prefetched form, counted as its completion rule counts."""
    rule = form.batch.category.completion_rule
    counted = passed = 0
    for record in form.records.all():
        if record.state == rules.NOT_REQUIRED or (rule == "required" and not record.step.required):
            continue
        counted += 1
        passed += record.state == rules.PASSED
    return passed, counted


def roles_of(user, grants=None) -> list[str]:
    """The roles a person can act in: student, department, counselor, office, auditor.

    grants: scope.person_grants(user) when the caller already holds it.
    """
    roles = []
    if not user or not user.is_authenticated:
        return roles
    if hasattr(user, "student"):
        roles.append("student")
    if grants is None:
        grants = scope.person_grants(user)
    owner_types = {grant.step.owner_type for grant in grants}
    if "department" in owner_types:
        roles.append("department")
    if "college" in owner_types:
        roles.append("counselor")
    if user.is_office:
        roles.append("office")
    if user.is_auditor:
        roles.append("auditor")
    return roles


# ---------------------------------------------------------------------------------------------
# the desk's live panels: my latest actions and today's work, within the same gate

RECORD_ACTIONS = (
    "clearance.record.passed",
    "clearance.record.revoked",
    "clearance.record.reopened",
)


def _within(events: QuerySet[Event], q: Q, batch: Batch) -> QuerySet[Event]:
    """Events on forms matching a filter of the gate (Reach.read_filter / handle_filter).

    When the filter is the whole batch, the event's own batch column says it without a
    subquery over every form of the batch (the statistics panel must stay cheap at 50,000).
    """
    if q == Q(batch=batch):
        return events.filter(batch=batch)
    return events.filter(batch=batch, form__in=Form.objects.filter(q).values("id"))


def recent_actions(reach: scope.Reach, limit: int = 50) -> list[Event]:
    """The person's latest record changes in this batch, on forms they may still read."""
    events = Event.objects.filter(actor=reach.user, action__in=RECORD_ACTIONS)
    events = _within(events, reach.read_filter(), reach.batch)
    return list(events.select_related("form__student", "step").order_by("-at", "-id")[:limit])


def today_start():
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def handled_today(reach: scope.Reach, steps=None) -> dict[int, int]:
    """Per step: passes and revokes made today (by anyone) on forms this person may handle.

    Steps the person reaches alike (usually all of them) are counted in one grouped query.
    """
    steps = reach.steps if steps is None else steps
    start = today_start()
    by_reach: dict = defaultdict(list)
    for step in steps:
        by_reach[reach.handle_filter(step)].append(step.id)
    counts = dict.fromkeys((step.id for step in steps), 0)
    for q, step_ids in by_reach.items():
        events = Event.objects.filter(
            step_id__in=step_ids, at__gte=start, action__in=RECORD_ACTIONS[:2]
        )
        rows = (
            _within(events, q, reach.batch)
            .values_list("step_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        counts.update(dict(rows))
    return counts
