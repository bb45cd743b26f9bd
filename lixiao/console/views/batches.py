"""Batches (离校批次): list, guided create (basic data → roster → grants → done), edit, batch page."""

from django.contrib import messages
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.clearance import queries, services
from lixiao.clearance.models import Batch, Grant, Lifecycle, Step, StepTally
from lixiao.console.access import actor, office_view
from lixiao.console.forms.batches import BatchForm
from lixiao.console.views.categories import setup_context
from lixiao.console.views.grants import BATCH_SETUP


@office_view
def batch_list(request):
    batches = list(
        Batch.objects.select_related("category")
        .annotate(grant_count=Count("grants"))
        .order_by("-opens_at", "-id")
    )
    completion = queries.batch_completion(batches)
    now = timezone.now()
    for batch in batches:
        batch.total, batch.done = completion.get(batch.id, (0, 0))
        batch.percent = round(100 * batch.done / batch.total, 1) if batch.total else 0
        batch.state_label = Lifecycle(batch.lifecycle(now)).label
    return render(request, "console/batches/list.html", {"batches": batches})


@office_view
def batch_create(request):
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        batch, copied = services.create_batch(actor(request), form.cleaned_data)
        messages.success(
            request,
            _("已创建离校批次“%(name)s”，并复制了类别的 %(copied)s 条默认授权。下一步：导入名单。")
            % {"name": batch.name, "copied": copied},
        )
        return redirect(reverse("console:batch", args=[batch.pk]) + "?setup=1")
    return render(
        request,
        "console/batches/form.html",
        {"form": form, **setup_context(request, "basic", sequence=BATCH_SETUP, force=True)},
    )


@office_view
def batch_edit(request, pk: int):
    batch = get_object_or_404(Batch, pk=pk)
    form = BatchForm(request.POST or None, instance=batch)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_batch(actor(request), batch, form.cleaned_data)
        except services.Refused as refusal:
            form.add_error(None, str(refusal))
            return render(request, "console/batches/form.html", {"form": form, "batch": batch})
        messages.success(request, _("已保存“%(name)s”。") % {"name": batch.name})
        return redirect("console:batch", batch.pk)
    return render(request, "console/batches/form.html", {"form": form, "batch": batch})


def _step_progress(batch: Batch) -> list[dict]:
    """Per step: applicable, passed, pending over the whole batch, from the maintained tallies."""
    sums = {
        row["step_id"]: row
        for row in StepTally.objects.filter(batch=batch)
        .values("step_id")
        .annotate(pending=Sum("pending"), passed=Sum("passed"), not_required=Sum("not_required"))
        .order_by()
    }
    grants = dict(
        Grant.objects.filter(batch=batch).values_list("step_id").annotate(n=Count("id")).order_by()
    )
    rows = []
    for step in (
        Step.objects.filter(category_id=batch.category_id)
        .select_related("department")
        .order_by("order", "id")
    ):
        s = sums.get(step.id, {"pending": 0, "passed": 0, "not_required": 0})
        applicable = s["pending"] + s["passed"]
        rows.append(
            {
                "step": step,
                "applicable": applicable,
                "passed": s["passed"],
                "pending": s["pending"],
                "percent": round(100 * s["passed"] / applicable, 1) if applicable else 0,
                "grants": grants.get(step.id, 0),
            }
        )
    return rows


@office_view
def batch_page(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    colleges = queries.college_statistics(batch)
    total, done = sum(c["total"] for c in colleges), sum(c["done"] for c in colleges)
    return render(
        request,
        "console/batches/page.html",
        {
            "batch": batch,
            "state_label": Lifecycle(batch.lifecycle()).label,
            "colleges": colleges,
            "total": total,
            "done": done,
            "percent": round(100 * done / total, 1) if total else 0,
            "steps": _step_progress(batch),
            **setup_context(
                request, "roster", reverse("console:batch_grants", args=[batch.pk]), BATCH_SETUP
            ),
        },
    )


@office_view
def batch_setup_done(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=pk)
    return render(
        request,
        "console/batches/done.html",
        {
            "batch": batch,
            "forms": batch.forms.count(),
            "grants": Grant.objects.filter(batch=batch).count(),
            **setup_context(request, "done", sequence=BATCH_SETUP, force=True),
        },
    )
