"""Grants (人员授权): the office's (a category's defaults, a batch's own, copied from them) and a
college lead's delegation (再授权) to its own college's staff, effective at once."""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from lixiao.clearance.models import Batch, Grant, OwnerType, Scope, Step
from lixiao.clearance.rules import Refused
from lixiao.clearance.scope import lead_grants
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, Forbidden, NotFound, require_office
from lixiao.directory.models import Staff, User


def describe(grant: Grant) -> dict:
    """What an audit event keeps of a grant (people by their number, not only an id)."""
    return {
        "grant": grant.id,
        "step": grant.step_id,
        "user": grant.user.username,
        "scope": grant.scope,
        "college": grant.college_id,
        "starts_on": str(grant.starts_on or ""),
        "ends_on": str(grant.ends_on or ""),
        "is_lead": grant.is_lead,
        "batch": grant.batch_id,
    }


def scope_errors(step: Step, scope: str, college) -> dict[str, str]:
    """Errors by field: department steps reach the whole school, college steps one college or
    "my students"; a college scope names its college."""
    errors = {}
    if step.owner_type == OwnerType.DEPARTMENT and scope != Scope.SCHOOL:
        errors["scope"] = _("“%(step)s”是学校部门环节，授权范围应为全校。") % {"step": step.title}
    if step.owner_type == OwnerType.COLLEGE and scope == Scope.SCHOOL:
        errors["scope"] = _("“%(step)s”是院系环节，请按院系授权（本院系或我的学生）。") % {
            "step": step.title
        }
    if scope == Scope.COLLEGE and not college:
        errors["college"] = _("范围为本院系时须选择院系。")
    return errors


def is_duplicate(batch, step, user, scope: str, college) -> bool:
    """The same person already holds this step with this reach (in this batch or as default)."""
    qs = Grant.objects.filter(batch=batch, step=step, user=user)
    return qs.filter(
        Q(college=college) if college else Q(college__isnull=True, scope=scope)
    ).exists()


def find_person(number: str) -> User | None:
    return User.objects.filter(username=number).select_related("staff").first()


def _ensure_staff(actor: Actor, number: str, name: str) -> tuple[User, bool]:
    """The staff account with this number, created (with its Staff row) when it does not exist."""
    user = find_person(number)
    if user is not None:
        return user, False
    if not name:
        raise Refused(
            _("职工号 %(number)s 尚未登记，请填写姓名以创建账号。") % {"number": number}, "name"
        )
    # No password: the person signs in by campus SSO or after the office sets their ID number.
    user = User.objects.create_user(number, name=name)
    Staff.objects.create(user=user, staff_number=number, name=name)
    audit.log(actor, "console.staff.created", data={"user": number, "name": name})
    return user, True


def create_grant(
    actor: Actor,
    *,
    step: Step,
    batch: Batch | None,
    staff_number: str,
    name: str = "",
    scope: str,
    college=None,
    starts_on=None,
    ends_on=None,
    is_lead: bool = False,
) -> tuple[Grant, bool]:
    """The office grants a person (by staff number, created when new) a step of a category
    (batch None: the category's default) or of one batch. Returns (grant, person created)."""
    require_office(actor)
    if batch is not None and step.category_id != batch.category_id:
        raise NotFound
    errors = scope_errors(step, scope, college)
    if errors:
        raise Refused(next(iter(errors.values())), "scope")
    if scope == Scope.SCHOOL:
        college = None
    if is_lead and scope != Scope.COLLEGE:
        raise Refused(_("只有按院系授权的人员可设为院系负责人。"), "lead")
    if starts_on and ends_on and ends_on < starts_on:
        raise Refused(_("截止日期不能早于生效日期。"), "dates")
    with transaction.atomic():
        person = find_person(staff_number)
        if person is not None and hasattr(person, "student"):
            raise Refused(
                _("%(number)s 是学生学号，不能授权办理。") % {"number": staff_number}, "student"
            )
        user, created = _ensure_staff(actor, staff_number, name.strip())
        if is_duplicate(batch, step, user, scope, college):
            raise Refused(
                _("%(person)s 已有“%(step)s”的相同授权。") % {"person": user, "step": step.title},
                "duplicate",
            )
        grant = Grant.objects.create(
            batch=batch,
            step=step,
            user=user,
            scope=scope,
            college=college,
            starts_on=starts_on,
            ends_on=ends_on,
            is_lead=is_lead,
            created_by=actor.user,
        )
        audit.log(actor, "console.grant.created", batch=batch, data=describe(grant))
    return grant, created


def delete_grant(actor: Actor, grant: Grant) -> None:
    """The office ends a grant (the person's open pages lose the step at their next request)."""
    require_office(actor)
    with transaction.atomic():
        audit.log(actor, "console.grant.deleted", batch=grant.batch_id, data=describe(grant))
        grant.delete()


def copy_default_grants(actor: Actor, batch: Batch) -> int:
    """Copy the category's default grants (batch NULL) into the batch, skipping those it
    already has. Returns how many were copied."""
    require_office(actor)
    with transaction.atomic():
        have = {
            (g.step_id, g.user_id, g.scope, g.college_id)
            for g in Grant.objects.filter(batch=batch).select_for_update()
        }
        copies = [
            Grant(
                batch=batch,
                step_id=g.step_id,
                user_id=g.user_id,
                scope=g.scope,
                college_id=g.college_id,
                starts_on=g.starts_on,
                ends_on=g.ends_on,
                is_lead=g.is_lead,
                created_by=actor.user,
            )
            for g in Grant.objects.filter(
                step__category_id=batch.category_id, batch__isnull=True
            ).order_by("id")
            if (g.step_id, g.user_id, g.scope, g.college_id) not in have
        ]
        Grant.objects.bulk_create(copies)
        if copies:
            audit.log(
                actor,
                "console.grant.copied",
                batch=batch,
                data={"batch": batch.id, "grants": len(copies)},
            )
    return len(copies)


def delegate(
    actor: Actor,
    lead: Grant,
    staff_number: str,
    scope: str,
    starts_on=None,
    ends_on=None,
) -> Grant:
    """A college lead grants one of its lead grants' steps to a staff member of the same
    college (their whole college, or only the students the roster names them counselor of)."""
    leads = lead_grants(actor.user)
    if lead.pk not in {g.pk for g in leads}:
        raise Forbidden
    if scope not in (Scope.COLLEGE, Scope.MINE):
        raise Refused(_("只能授权本院系或我的学生范围。"), "scope")
    if starts_on and ends_on and ends_on < starts_on:
        raise Refused(_("截止日期不能早于生效日期。"), "dates")
    staff = Staff.objects.filter(staff_number=staff_number).select_related("user").first()
    if staff is None or staff.college_id != lead.college_id:
        raise Refused(
            _("职工号 %(number)s 不是%(college)s的教职工，只能授权本院系人员。")
            % {"number": staff_number, "college": lead.college.name},
            "not_in_college",
        )
    college = lead.college if scope == Scope.COLLEGE else None
    with transaction.atomic():
        if is_duplicate(lead.batch, lead.step, staff.user, scope, college):
            raise Refused(_("%(staff)s 已有此授权。") % {"staff": staff}, "duplicate")
        grant = Grant.objects.create(
            batch=lead.batch,
            step=lead.step,
            user=staff.user,
            scope=scope,
            college=college,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor.user,
        )
        audit.log(
            actor,
            "desk.grant.delegated",
            batch=grant.batch_id,
            data={**describe(grant), "lead_grant": lead.id},
        )
    return grant


def delegated_by(user):
    """The grants a lead made for others in the batches they lead (what they may revoke)."""
    leads = lead_grants(user)
    return (
        Grant.objects.filter(
            created_by=user,
            batch_id__in={g.batch_id for g in leads},
            step_id__in={g.step_id for g in leads},
        )
        .exclude(user=user)
        .select_related("batch", "step", "user", "college")
        .order_by("batch_id", "step__order", "user__username")
    )


def revoke_delegation(actor: Actor, grant_id: int) -> Grant:
    """A lead takes back a grant it made, for a step it still leads; anything else: NotFound."""
    grant = delegated_by(actor.user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound
    with transaction.atomic():
        audit.log(actor, "desk.grant.revoked", batch=grant.batch_id, data=describe(grant))
        grant.delete()
    return grant
