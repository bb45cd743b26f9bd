"""The one access gate (Rule 4): what a person may read and handle in a batch, and who handles.

Everything starts here — every page, list, search, export, statistic, reminder, API call,
import and the writer itself:

- `reach(user, batch_id)` → a `Reach`: the person's steps in that batch, the forms they may
  read (a queryset and its SQL filter), whether they may handle a step on a form (in memory,
  for forms already read) and the filter of the forms they may handle it on. One grants read.
- `handlers(batch, step_id, forms)` → who handles a step on which of these forms.
- `in_force(grant, day)` → whether a grant counts on a day: the one place that says it.

A second hand-written scope filter anywhere else is a bug; a raw `Q` passed in from a caller
is one too.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from lixiao.clearance.models import Batch, Form, Grant, OwnerType, Scope, Step

NOTHING = Q(pk__in=[])


def today() -> date:
    return timezone.localdate()


def is_office(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_office)


def in_force(grant: Grant, day: date) -> bool:
    """A grant counts on `day` when it is a batch's (category defaults are templates only),
    within its dates, its batch is enabled, and its step is of the batch's category.
    Needs the grant's batch and step loaded."""
    return (
        grant.batch_id is not None
        and grant.active_on(day)
        and grant.batch.enabled
        and grant.step.category_id == grant.batch.category_id
    )


def _reaches(grant: Grant, college_id: int, counselor_id: int | None) -> bool:
    """Whether one grant reaches one form (its college and roster counselor)."""
    if grant.scope == Scope.SCHOOL:
        return True
    if grant.scope == Scope.COLLEGE:
        return grant.college_id == college_id
    return counselor_id == grant.user_id


def _union(grants: Iterable[Grant]) -> Q:
    """_reaches as SQL: the forms any of these grants reach, as one small filter."""
    colleges: set[int] = set()
    counselors: set[int] = set()
    for grant in grants:
        if grant.scope == Scope.SCHOOL:
            return Q()  # the whole school: no narrower union can add anything
        if grant.scope == Scope.COLLEGE:
            colleges.add(grant.college_id)
        else:
            counselors.add(grant.user_id)
    q = None
    if colleges:
        q = Q(college_id__in=sorted(colleges))
    if counselors:
        mine = Q(counselor_id__in=sorted(counselors))
        q = mine if q is None else q | mine
    return q if q is not None else NOTHING


@dataclass
class Reach:
    """What one person reads and handles in one batch, from one read of their grants."""

    user: object
    batch: Batch
    steps: list[Step]  # the steps they may change, in the category's order
    grants: list[Grant] | None  # their grants in force here; None for the office (everything)

    @property
    def office(self) -> bool:
        return self.grants is None

    def read_filter(self) -> Q:
        """The forms of the batch they may read (whole forms: a counselor reads every step)."""
        if self.grants is None:
            return Q(batch=self.batch)
        return Q(batch=self.batch) & _union(self.grants)

    def forms(self) -> QuerySet[Form]:
        return Form.objects.filter(self.read_filter())

    def handle_filter(self, step: Step | int) -> Q:
        """The forms of the batch on which they may change this step."""
        if self.grants is None:
            return Q(batch=self.batch)
        step_id = getattr(step, "id", step)
        return Q(batch=self.batch) & _union(g for g in self.grants if g.step_id == step_id)

    def may_read(self, college_id: int, counselor_id: int | None) -> bool:
        """read_filter for one form already in memory."""
        if self.grants is None:
            return True
        return any(_reaches(g, college_id, counselor_id) for g in self.grants)

    def may_handle(self, step: Step | int, college_id: int, counselor_id: int | None) -> bool:
        """handle_filter for one form already in memory."""
        if self.grants is None:
            return True
        step_id = getattr(step, "id", step)
        return any(
            g.step_id == step_id and _reaches(g, college_id, counselor_id) for g in self.grants
        )

    def handleable(self, form: Form) -> set[int]:
        """The ids of their steps they may change on this form."""
        return {s.id for s in self.steps if self.may_handle(s, form.college_id, form.counselor_id)}

    def step(self, step_id) -> Step | None:
        """One of their steps by id (from a request: compared as text), or None."""
        for step in self.steps:
            if str(step.id) == str(step_id):
                return step
        return None

    @property
    def colleges(self) -> list[int] | None:
        """The colleges their reading scope is limited to; None when it is not (the whole
        school, or their own students wherever those study). The search panel offers these."""
        if self.grants is None or any(g.scope != Scope.COLLEGE for g in self.grants):
            return None
        return sorted({g.college_id for g in self.grants})


def person_grants(user) -> list[Grant]:
    """Every batch grant of a person (any dates), with batch and step: read once per request
    (accounts.roles keeps it on the request) for their roles and their desk."""
    if not user or not user.is_authenticated:
        return []
    return list(
        Grant.objects.filter(user=user, batch__isnull=False).select_related("batch", "step")
    )


def reach(
    user, batch_id: int, grants: list[Grant] | None = None, day: date | None = None
) -> Reach | None:
    """The person's reach in one batch; None when they have none there (not theirs to see).

    grants: person_grants(user) when the caller already holds it (their batch and step
    loaded), so a request reads grants once. day: the day whose grants count (default today;
    the deadline reminders plan for a given day).
    """
    if not user or not user.is_authenticated:
        return None
    if is_office(user):
        batch = Batch.objects.select_related("category").filter(pk=batch_id).first()
        if batch is None:
            return None
        steps = Step.objects.filter(category_id=batch.category_id).select_related(
            "department", "source"
        )
        return Reach(user, batch, list(steps.order_by("order", "id")), None)
    if grants is None:
        grants = list(
            Grant.objects.filter(user=user, batch_id=batch_id).select_related(
                "batch__category", "step__department", "step__source"
            )
        )
    day = day or today()
    grants = [g for g in grants if g.batch_id == batch_id and in_force(g, day)]
    if not grants:
        return None
    steps = {grant.step_id: grant.step for grant in grants}
    ordered = sorted(steps.values(), key=lambda step: (step.order, step.id))
    return Reach(user, grants[0].batch, ordered, grants)


def handle_filter(user, batch: Batch, step: Step) -> Q:
    """Reach.handle_filter(step) for one step, reading only that step's grants: the writer asks
    this on every change, and needs neither the person's other steps nor their departments."""
    if is_office(user):
        return Q(batch=batch)
    if not user or not user.is_authenticated:
        return NOTHING
    day = today()
    grants = [
        g
        for g in Grant.objects.filter(user=user, batch=batch, step=step).select_related(
            "batch", "step"
        )
        if in_force(g, day)
    ]
    return Q(batch=batch) & _union(grants) if grants else NOTHING


def batches(user, grants: list[Grant] | None = None) -> list[Batch]:
    """The batches a person handles in: every batch for the office; for others the enabled
    batches where a grant is in force today. Newest first."""
    if not user or not user.is_authenticated:
        return []
    if is_office(user):
        return list(Batch.objects.select_related("category"))
    day = today()
    found = {
        g.batch_id: g.batch
        for g in (grants if grants is not None else person_grants(user))
        if in_force(g, day)
    }
    return sorted(found.values(), key=lambda b: (b.opens_at, b.id), reverse=True)


def handlers(batch: Batch, step_id: int, forms: Iterable[tuple[int, int, int | None]], day=None):
    """Who handles this step on which of these forms: {user id: {form ids}}.

    forms: (form id, college id, counselor id) of forms already read. Per person, not per
    grant: a counselor with a college grant and a "my students" grant on the same student
    counts that student once. Inactive accounts handle nothing.
    """
    day = day or today()
    grants = [
        g
        for g in Grant.objects.filter(
            batch=batch, step_id=step_id, user__is_active=True
        ).select_related("batch", "step")
        if in_force(g, day)
    ]
    reached: dict[int, set[int]] = defaultdict(set)
    forms = list(forms)
    for grant in grants:
        for form_id, college_id, counselor_id in forms:
            if _reaches(grant, college_id, counselor_id):
                reached[grant.user_id].add(form_id)
    return dict(reached)


def lead_grants(user) -> list[Grant]:
    """The person's lead grants in force today: a college scope on a college step, with the
    right to delegate it to their college's staff."""
    if not user or not user.is_authenticated:
        return []
    day = today()
    grants = Grant.objects.filter(
        user=user, is_lead=True, scope=Scope.COLLEGE, step__owner_type=OwnerType.COLLEGE
    ).select_related("batch", "step", "college")
    return [g for g in grants.order_by("batch_id", "step__order") if in_force(g, day)]


def student_forms(user) -> QuerySet[Form]:
    """A student reads only their own forms, in enabled batches."""
    if not user or not user.is_authenticated:
        return Form.objects.none()
    return Form.objects.filter(student__user=user, batch__enabled=True)
