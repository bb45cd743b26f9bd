"""Scoped reads shared by every surface: search, one form, statistics.

Everything starts from `scope` (the one access gate) so lists, exports, statistics and the
API see exactly what the writer would let the same person change or read.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from lixiao.clearance import rules, scope
from lixiao.clearance.models import (
    Batch,
    Form,
    FormTally,
    Grant,
    Record,
    Scope,
    State,
    Step,
    StepTally,
)
from lixiao.directory import idnumbers

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


def readable_forms(user, batch: Batch) -> QuerySet[Form]:
    """Forms of the batch the person may read (handlers and office)."""
    return Form.objects.filter(scope.read_q(user, batch))


def student_forms(user) -> QuerySet[Form]:
    return Form.objects.filter(scope.student_q(user)).select_related("batch", "batch__category")


def _text_q(q: str) -> Q:
    q = q.strip()
    if not q:
        return Q()
    if _ID_NUMBER.match(q):
        return Q(student__id_number_hash=idnumbers.lookup_hash(q))
    if _DIGITS.match(q):
        # A range instead of LIKE 'q%': it uses the unique index on both engines.
        upper = q[:-1] + chr(ord(q[-1]) + 1)
        return Q(student__student_number__gte=q, student__student_number__lt=upper)
    return Q(student__name__contains=q)


def search(user, batch: Batch, filters: Filters) -> QuerySet[Form]:
    """Scoped search: 学号 exact/prefix, 姓名 contains, 身份证件号 exact, and the filters."""
    qs = readable_forms(user, batch).filter(_text_q(filters.q))
    if filters.college_id:
        qs = qs.filter(college_id=filters.college_id)
    for name in ("major", "class_name", "student_type", "political_status"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{f"student__{name}": value})
    for step_id, state in filters.step_states.items():
        qs = qs.filter(id__in=Record.objects.filter(step_id=step_id, state=state).values("form_id"))
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


def form_detail(form_id: int, base: QuerySet[Form]) -> Form | None:
    """One form from an already-scoped queryset, with student, batch, records and steps."""
    return (
        with_records(base.select_related("student", "student__college", "batch", "batch__category", "college"))
        .filter(pk=form_id)
        .first()
    )


@dataclass
class StepStats:
    step: Step
    applicable: int
    passed: int
    pending: int

    @property
    def percent(self) -> float:
        return round(100 * self.passed / self.applicable, 1) if self.applicable else 100.0


def _reach(user, batch: Batch, step_id: int) -> tuple[bool, set[int], bool]:
    """(whole school, colleges, my students) that a person's grants on a step reach."""
    if scope.is_office(user):
        return True, set(), False
    school, colleges, mine = False, set(), False
    for grant in scope.active_grants(user, batch, step_id):
        if grant.scope == Scope.SCHOOL:
            school = True
        elif grant.scope == Scope.COLLEGE:
            colleges.add(grant.college_id)
        else:
            mine = True
    return school, colleges, mine


def step_statistics(user, batch: Batch, steps=None) -> list[StepStats]:
    """Per step: applicable, passed, pending within the person's reach, from maintained counters.

    Counters are per college; "my students" reach is counted live (a counselor's few hundred).
    """
    steps = list(steps if steps is not None else scope.handler_steps(user, batch))
    counts_by_step = defaultdict(lambda: [0, 0])
    rows = StepTally.objects.filter(batch=batch, step__in=steps).values_list("step_id", "college_id", "pending", "passed")
    by_step = defaultdict(list)
    for step_id, college_id, pending, passed in rows:
        by_step[step_id].append((college_id, pending, passed))
    result = []
    for step in steps:
        school, colleges, mine = _reach(user, batch, step.id)
        counts = counts_by_step[step.id]
        for college_id, pending, passed in by_step[step.id]:
            if school or college_id in colleges:
                counts[0] += pending
                counts[1] += passed
        if mine and not school:
            live = (
                Record.objects.filter(step=step, form__batch=batch, form__counselor=user)
                .exclude(form__college_id__in=colleges)
                .aggregate(
                    pending=Count("id", filter=Q(state=State.PENDING)),
                    passed=Count("id", filter=Q(state=State.PASSED)),
                )
            )
            counts[0] += live["pending"]
            counts[1] += live["passed"]
        result.append(StepStats(step, counts[0] + counts[1], counts[1], counts[0]))
    return result


def college_statistics(batch: Batch) -> list[dict]:
    """Forms and completed forms per college (office view), from maintained counters."""
    return list(
        FormTally.objects.filter(batch=batch)
        .values("college_id", "college__name")
        .annotate(total=Sum("forms"), done=Sum("completed"))
        .order_by("college__name")
    )


def recount(batch: Batch) -> tuple[dict, dict]:
    """Counters recomputed from the records themselves: tests check the tallies equal these."""
    steps = {}
    for step_id, college_id, state, n in (
        Record.objects.filter(form__batch=batch)
        .values_list("step_id", "form__college_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        steps.setdefault((step_id, college_id), {"not_required": 0, "pending": 0, "passed": 0})[state] = n
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
        (t.step_id, t.college_id): {"not_required": t.not_required, "pending": t.pending, "passed": t.passed}
        for t in StepTally.objects.filter(batch=batch)
        if t.not_required or t.pending or t.passed
    }
    forms = {
        t.college_id: {"forms": t.forms, "completed": t.completed}
        for t in FormTally.objects.filter(batch=batch)
        if t.forms or t.completed
    }
    return steps, forms


def steps_of(batch: Batch) -> list[Step]:
    return list(Step.objects.filter(category_id=batch.category_id).select_related("department", "source"))


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


def roles_of(user) -> list[str]:
    """The roles a person can act in: student, department, counselor, office, auditor."""
    roles = []
    if not user or not user.is_authenticated:
        return roles
    if hasattr(user, "student"):
        roles.append("student")
    owner_types = set(
        Grant.objects.filter(user=user, batch__isnull=False).values_list("step__owner_type", flat=True).distinct()
    )
    if "department" in owner_types:
        roles.append("department")
    if "college" in owner_types:
        roles.append("counselor")
    if user.is_office:
        roles.append("office")
    if user.is_auditor:
        roles.append("auditor")
    return roles
