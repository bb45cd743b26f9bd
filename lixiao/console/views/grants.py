"""Grants (人员授权): a category's defaults, a batch's own (copied from them), who can do what."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from lixiao.clearance.models import Batch, Category, Grant, Step
from lixiao.console.access import audit, office_view
from lixiao.console.forms.grants import GrantForm
from lixiao.console.views.categories import setup_context

BATCH_SETUP = [
    ("basic", gettext_lazy("基本信息")),
    ("roster", gettext_lazy("名单导入")),
    ("grants", pgettext_lazy("plural", "人员授权")),
    ("done", gettext_lazy("完成")),
]


def describe(grant: Grant) -> dict:
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


def copy_default_grants(request, batch: Batch) -> int:
    """Copy the category's default grants (batch NULL) into the batch, skipping those it already has."""
    have = {
        (g.step_id, g.user_id, g.scope, g.college_id) for g in Grant.objects.filter(batch=batch)
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
            created_by=request.user,
        )
        for g in Grant.objects.filter(
            step__category_id=batch.category_id, batch__isnull=True
        ).order_by("id")
        if (g.step_id, g.user_id, g.scope, g.college_id) not in have
    ]
    Grant.objects.bulk_create(copies)
    if copies:
        audit(
            request,
            "console.grant.copied",
            batch=batch,
            data={"batch": batch.id, "grants": len(copies)},
        )
    return len(copies)


def _grants(category: Category, batch: Batch | None):
    qs = Grant.objects.filter(step__category=category, batch=batch).select_related(
        "step", "user", "college"
    )
    return list(qs.order_by("step__order", "step_id", "user__username", "id"))


def _table(category: Category, grants: list[Grant]) -> list[dict]:
    """Who can do what: every step with its grants (a step without any is flagged)."""
    today = timezone.localdate()
    by_step: dict[int, list] = {}
    for grant in grants:
        grant.active_today = grant.active_on(today)
        by_step.setdefault(grant.step_id, []).append(grant)
    steps = (
        Step.objects.filter(category=category).select_related("department").order_by("order", "id")
    )
    return [{"step": step, "grants": by_step.get(step.id, [])} for step in steps]


def _page(request, category: Category, batch: Batch | None):
    form = GrantForm(request.POST or None, category=category, batch=batch)
    back = (
        reverse("console:batch_grants", args=[batch.pk])
        if batch
        else reverse("console:category_grants", args=[category.pk])
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            grant, created = form.save(created_by=request.user)
            if created:
                audit(
                    request,
                    "console.staff.created",
                    data={"user": grant.user.username, "name": grant.user.name},
                )
            audit(request, "console.grant.created", batch=batch, data=describe(grant))
        values = {"user": grant.user, "step": grant.step.title}
        if created:
            message = _("已授权 %(user)s 办理“%(step)s”（已按职工号新建教职工账号）。") % values
        else:
            message = _("已授权 %(user)s 办理“%(step)s”。") % values
        messages.success(request, message)
        return redirect(back + ("?setup=1" if request.GET.get("setup") else ""))
    if batch:
        setup = setup_context(
            request, "grants", reverse("console:batch_setup_done", args=[batch.pk]), BATCH_SETUP
        )
    else:
        setup = setup_context(request, "grants", reverse("console:service", args=[category.pk]))
    return render(
        request,
        "console/grants/page.html",
        {
            "category": category,
            "batch": batch,
            "form": form,
            "table": _table(category, _grants(category, batch)),
            **setup,
        },
    )


@office_view
def category_grants(request, category_id: int):
    return _page(request, get_object_or_404(Category, pk=category_id), None)


@office_view
def batch_grants(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    return _page(request, batch.category, batch)


@office_view
def batch_grants_copy(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            n = copy_default_grants(request, batch)
        messages.success(
            request,
            _("已从类别默认授权复制 %(n)s 条。") % {"n": n}
            if n
            else _("类别的默认授权均已在本批次中。"),
        )
    return redirect("console:batch_grants", batch.pk)


@office_view
def grant_delete(request, pk: int):
    grant = get_object_or_404(Grant.objects.select_related("step", "user", "batch"), pk=pk)
    back = (
        reverse("console:batch_grants", args=[grant.batch_id])
        if grant.batch_id
        else reverse("console:category_grants", args=[grant.step.category_id])
    )
    if request.method == "POST":
        with transaction.atomic():
            audit(request, "console.grant.deleted", batch=grant.batch, data=describe(grant))
            grant.delete()
        messages.success(
            request,
            _("已取消 %(user)s 对“%(step)s”的授权。")
            % {"user": grant.user, "step": grant.step.title},
        )
    return redirect(back)
