"""Grants (人员授权): a category's defaults, a batch's own (copied from them), who can do what."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Category, Grant, Step
from lixiao.console.access import actor, office_view
from lixiao.console.forms.grants import GrantForm
from lixiao.console.views.categories import setup_context

BATCH_SETUP = [
    ("basic", gettext_lazy("基本信息")),
    ("roster", gettext_lazy("名单导入")),
    ("grants", pgettext_lazy("plural", "人员授权")),
    ("done", gettext_lazy("完成")),
]


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
        grant, created = form.save(actor(request))
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
        n = services.copy_default_grants(actor(request), batch)
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
        services.delete_grant(actor(request), grant)
        messages.success(
            request,
            _("已取消 %(user)s 对“%(step)s”的授权。")
            % {"user": grant.user, "step": grant.step.title},
        )
    return redirect(back)
