"""The one access gate (Rule 4): which batches, steps and forms a person may see or handle.

Every list, search, export, statistic, API call, import and the writer itself start from
these functions. A second hand-written scope filter anywhere else is a bug.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from lixiao.clearance.models import Batch, Grant, Scope, Step

NOTHING = Q(pk__in=[])


def today() -> date:
    return timezone.localdate()


def active_grants(
    user, batch: Batch | None = None, step: Step | int | None = None
) -> QuerySet[Grant]:
    """Grants in force today for this person (per batch; category defaults are templates only)."""
    if not user or not user.is_authenticated:
        return Grant.objects.none()
    day = today()
    qs = Grant.objects.filter(user=user, batch__isnull=False).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=day),
        Q(ends_on__isnull=True) | Q(ends_on__gte=day),
    )
    if batch is not None:
        qs = qs.filter(batch=batch)
    if step is not None:
        qs = qs.filter(step=step)
    return qs


def _in_force(user, batch: Batch, step: Step | int | None = None) -> list[Grant]:
    """active_grants(user, batch, step) as a list, the dates checked on its few rows
    (Grant.active_on): cheaper than building the date conditions into the statement."""
    if not user or not user.is_authenticated:
        return []
    grants = Grant.objects.filter(user=user, batch=batch)
    if step is not None:
        grants = grants.filter(step=step)
    day = today()
    return [grant for grant in grants if grant.active_on(day)]


def _union(grants) -> Q:
    """The forms any of these grants reach, as one small filter (duplicates folded)."""
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


def grant_reaches(grant: Grant, college_id: int, counselor_id: int | None) -> bool:
    """_union's rule for one grant and one form already in memory (the writer's notices)."""
    if grant.scope == Scope.SCHOOL:
        return True
    if grant.scope == Scope.COLLEGE:
        return grant.college_id == college_id
    return counselor_id == grant.user_id


def is_office(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_office)


def handler_batches(user) -> QuerySet[Batch]:
    """Batches a person handles in: any for the office; enabled ones with a grant for others."""
    if is_office(user):
        return Batch.objects.all()
    ids = active_grants(user).values("batch_id")
    return Batch.objects.filter(enabled=True, id__in=ids)


def handler_steps(user, batch: Batch) -> QuerySet[Step]:
    """The steps of this batch a person may change."""
    steps = Step.objects.filter(category_id=batch.category_id)
    if is_office(user):
        return steps
    if not batch.enabled:
        return steps.none()
    return steps.filter(id__in=active_grants(user, batch).values("step_id"))


@dataclass
class Desk:
    """What one person works with in one batch, read once per request."""

    batch: Batch
    steps: list[Step]  # the steps they may change, in the category's order
    read: Q  # the forms of the batch they may read (as read_q)
    grants: list[Grant] | None = None  # their grants in force here; None for the office

    @property
    def colleges(self) -> list[int] | None:
        """The colleges their reading scope is limited to; None when it is not (the whole
        school, or their own students wherever those study). The search panel offers these."""
        if self.grants is None or any(g.scope != Scope.COLLEGE for g in self.grants):
            return None
        return sorted({g.college_id for g in self.grants})

    def handle(self, step: Step | int) -> Q:
        """handle_q for one of these steps, from the grants already read."""
        if self.grants is None:
            return Q(batch=self.batch)
        step_id = getattr(step, "id", step)
        return Q(batch=self.batch) & _union([g for g in self.grants if g.step_id == step_id])


def person_grants(user) -> list[Grant]:
    """Every batch grant of a person (any dates), with batch and step: read once per request
    (accounts.roles keeps it on the request) for their roles and their desk."""
    if not user or not user.is_authenticated:
        return []
    return list(
        Grant.objects.filter(user=user, batch__isnull=False).select_related("batch", "step")
    )


def handler_desk(
    user, batch_id: int, grants: list[Grant] | None = None, day: date | None = None
) -> Desk | None:
    """handler_batches, handler_steps and read_q for one batch at once (None: not theirs).

    The desk's pages ask all three on every request; the person's grants answer them
    together, instead of one grants subquery each. grants: person_grants(user) when the
    caller already holds it (its batch and step loaded). day: the day whose grants are in
    force (default today; the deadline reminders plan for a given day).
    """
    if not user or not user.is_authenticated:
        return None
    if is_office(user):
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is None:
            return None
        steps = Step.objects.filter(category_id=batch.category_id).order_by("order", "id")
        return Desk(batch, list(steps), Q(batch=batch))
    if grants is None:
        grants = Grant.objects.filter(user=user, batch_id=batch_id).select_related("batch", "step")
    # Dates and the batch switch are checked on the few rows here: the same rule as
    # active_grants and handler_batches, cheaper than building it into the statement.
    day = day or today()
    grants = [
        grant
        for grant in grants
        if grant.batch_id == batch_id
        and grant.active_on(day)
        and grant.batch.enabled
        and grant.step.category_id == grant.batch.category_id
    ]
    if not grants:
        return None
    batch = grants[0].batch
    steps = {grant.step_id: grant.step for grant in grants}
    ordered = sorted(steps.values(), key=lambda step: (step.order, step.id))
    return Desk(batch, ordered, Q(batch=batch) & _union(grants), grants)


def read_q(user, batch: Batch) -> Q:
    """Forms of this batch a person may read: the union of their grants' reach (whole forms)."""
    if is_office(user):
        return Q(batch=batch)
    if not batch.enabled:
        return NOTHING
    return Q(batch=batch) & _union(_in_force(user, batch))


def handle_q(user, batch: Batch, step: Step | int) -> Q:
    """Forms of this batch on which a person may change this step."""
    if is_office(user):
        return Q(batch=batch)
    if not batch.enabled:
        return NOTHING
    return Q(batch=batch) & _union(_in_force(user, batch, step))


def student_q(user) -> Q:
    """A student reads only their own forms, in enabled batches."""
    if not user or not user.is_authenticated:
        return NOTHING
    return Q(student__user=user, batch__enabled=True)
