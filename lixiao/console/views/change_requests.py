"""Change requests (环节变更申请): the office approves or rejects a department's add/remove request."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lixiao.clearance.models import Batch, Record
from lixiao.console.access import audit, office_view
from lixiao.console.forms.change_requests import DecisionForm
from lixiao.console.models import ChangeRequest
from lixiao.console.views.categories import join_names
from lixiao.notify import services as notify


@office_view
def change_request_list(request):
    requests_ = ChangeRequest.objects.select_related(
        "category", "requested_by", "department", "step"
    ).order_by("status", "-requested_at")
    pending = [r for r in requests_ if r.status == ChangeRequest.Status.PENDING]
    others = [r for r in requests_ if r.status != ChangeRequest.Status.PENDING]
    return render(
        request, "console/change_requests/list.html", {"pending": pending, "others": others}
    )


def removal_blocker(change: ChangeRequest) -> str | None:
    """Why a step cannot be removed now, or None: batches in progress, or history to keep."""
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


def _decide(request, change: ChangeRequest, approve: bool, note: str):
    with transaction.atomic():
        change.decided_by, change.decided_at, change.decision_note = (
            request.user,
            timezone.now(),
            note,
        )
        if approve:
            change.status = ChangeRequest.Status.APPROVED
            if change.kind == ChangeRequest.Kind.REMOVE:
                step = change.step
                audit(
                    request,
                    "console.step.deleted",
                    data={
                        "step": step.id,
                        "title": step.title,
                        "category": step.category_id,
                        "change_request": change.id,
                    },
                )
                step.delete()  # the request keeps the title; its step link becomes empty
                change.step = None
        else:
            change.status = ChangeRequest.Status.REJECTED
        change.save()
        action = "console.change_request.approved" if approve else "console.change_request.rejected"
        audit(
            request,
            action,
            note=note,
            data={
                "change_request": change.id,
                "kind": change.kind,
                "title": change.title,
                "category": change.category_id,
            },
        )
        outcome = "已同意" if approve else "已驳回"
        # A notification: written in the default language, whatever the office's page shows.
        with translation.override(settings.LANGUAGE_CODE):
            kind = str(change.get_kind_display())
        notify.send(
            [change.requested_by_id],
            f"环节变更申请{outcome}：{kind}“{change.title}”",
            note or "",
            link=reverse("desk:change_requests"),
        )


@office_view
def change_request_detail(request, pk: int):
    change = get_object_or_404(
        ChangeRequest.objects.select_related("category", "requested_by", "step"), pk=pk
    )
    form = DecisionForm(request.POST or None)
    blocker = removal_blocker(change) if change.kind == ChangeRequest.Kind.REMOVE else None
    if request.method == "POST" and change.status != ChangeRequest.Status.PENDING:
        messages.error(request, _("该申请已审核，不能再次审核。"))
        return redirect("console:change_request", change.pk)
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        if approve and blocker:
            messages.error(request, _("不能同意：%(reason)s") % {"reason": blocker})
            return redirect("console:change_request", change.pk)
        _decide(request, change, approve, form.cleaned_data["note"].strip())
        if approve and change.kind == ChangeRequest.Kind.ADD:
            messages.success(
                request,
                _("已同意。新增环节“%(title)s”为待完善草稿，请补充设置后加入类别。")
                % {"title": change.title},
            )
            return redirect(
                reverse("console:step_create", args=[change.category_id])
                + f"?change_request={change.pk}"
            )
        messages.success(
            request, _("已同意，环节已删除。") if approve else _("已驳回，申请人会收到通知。")
        )
        return redirect("console:change_requests")
    return render(
        request,
        "console/change_requests/detail.html",
        {"change": change, "form": form, "blocker": blocker},
    )
