"""Change requests (环节变更申请): a department asks, before the office's deadline, to add or
remove a step; the office approves (a removal deletes the step; an addition becomes a draft the
office completes through steps.create_step) or rejects with a reason the requester reads."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lixiao.clearance import hooks, scope
from lixiao.clearance.models import Batch, Category, ChangeRequest, OwnerType, Record, Step
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, Forbidden, require_office
from lixiao.clearance.services.categories import join_names
from lixiao.clearance.services.steps import delete_step


def open_categories():
    """Categories whose change deadline has not passed (requests are still taken)."""
    return Category.objects.filter(change_deadline__gte=timezone.localdate()).order_by("name")


def _describe(change: ChangeRequest) -> dict:
    return {
        "change_request": change.id,
        "kind": change.kind,
        "title": change.title,
        "category": change.category_id,
    }


def submit_change_request(
    actor: Actor,
    *,
    category: Category,
    kind: str,
    reason: str,
    step: Step | None = None,
    title: str = "",
    owner_type: str = "",
    department=None,
    instructions: str = "",
) -> ChangeRequest:
    """A handler (department or counselor) asks for a step to be added or removed."""
    user = actor.user
    if not (user and user.is_authenticated) or not scope.person_grants(user):
        raise Forbidden  # only people who handle steps ask to change them
    if category.change_deadline is None or category.change_deadline < timezone.localdate():
        raise Refused(_("“%(name)s”的环节变更申请已截止。") % {"name": category.name}, "closed")
    if kind == ChangeRequest.Kind.REMOVE:
        if step is None or step.category_id != category.id:
            raise Refused(_("请选择“%(name)s”中要删除的环节。") % {"name": category.name}, "step")
        title, owner_type, department = step.title, "", None
    else:
        step = None
        title = title.strip()
        if not title:
            raise Refused(_("请填写新环节的标题。"), "title")
        if owner_type == OwnerType.DEPARTMENT and department is None:
            raise Refused(_("学校部门环节须选择所属部门。"), "department")
    with transaction.atomic():
        change = ChangeRequest.objects.create(
            category=category,
            kind=kind,
            step=step,
            title=title,
            owner_type=owner_type or "",
            department=department,
            instructions=instructions,
            reason=reason,
            requested_by=user,
        )
        audit.log(actor, "desk.change_request.submitted", data=_describe(change))
    return change


def removal_blocker(change: ChangeRequest) -> str | None:
    """Why a removal cannot be approved now, or None: batches in progress, or history to keep."""
    if change.step_id is None:
        return _("该环节已不存在。")
    batch_ids = Record.objects.filter(step_id=change.step_id).values("form__batch_id")
    batches = list(Batch.objects.filter(id__in=batch_ids).order_by("-opens_at"))
    running = [b.name for b in batches if b.closes_at > timezone.now()]
    if running:
        return _("离校批次 %(batches)s 正在使用“%(title)s”，批次结束前不能删除该环节。") % {
            "batches": join_names(running),
            "title": change.title,
        }
    if batches:
        return _(
            "“%(title)s”已有历史办理记录（%(batches)s），办理记录须保留，"
            "不能删除；请将其设为非必办，或在新的离校类别中不再设置。"
        ) % {"title": change.title, "batches": join_names(b.name for b in batches)}
    return None


def decide_change_request(
    actor: Actor, change: ChangeRequest, approve: bool, note: str = ""
) -> ChangeRequest:
    """The office approves or rejects a pending request; the requester is told either way.

    Approving a removal deletes the step in the same transaction; approving an addition
    leaves a draft (APPROVED) for steps.create_step to fulfil.
    """
    require_office(actor)
    note = note.strip()
    if not approve and not note:
        raise Refused(_("驳回时请写明理由，申请人将看到这段文字。"), "note")
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if change.status != ChangeRequest.Status.PENDING:
            raise Refused(_("该申请已审核，不能再次审核。"), "decided")
        if approve and change.kind == ChangeRequest.Kind.REMOVE:
            blocker = removal_blocker(change)
            if blocker:
                raise Refused(_("不能同意：%(reason)s") % {"reason": blocker}, "blocked")
            delete_step(actor, change.step, change_request=change)
            change.step = None
        change.status = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REJECTED
        change.decided_by, change.decided_at, change.decision_note = (
            actor.user,
            timezone.now(),
            note,
        )
        change.save()
        action = "console.change_request.approved" if approve else "console.change_request.rejected"
        audit.log(actor, action, note=note, data=_describe(change))
        outcome = "已同意" if approve else "已驳回"
        # A notification: written in the default language, whatever the office's page shows.
        with translation.override(settings.LANGUAGE_CODE):
            kind = str(change.get_kind_display())
        hooks.announce(
            hooks.Notice(
                [change.requested_by_id],
                f"环节变更申请{outcome}：{kind}“{change.title}”",
                note,
                link=reverse("desk:change_requests"),
            )
        )
    return change
