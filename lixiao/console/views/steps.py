"""Steps (环节) of a category: the category page, create, edit (conditions), move, delete."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lixiao.clearance import rules, services
from lixiao.clearance.models import Batch, Category, Record, Step
from lixiao.console.access import actor, audit, is_partial, office_view
from lixiao.console.forms.steps import ConditionFormSet, StepForm, condition_from, condition_initial
from lixiao.console.models import ChangeRequest
from lixiao.console.views.categories import changes, setup_context
from lixiao.portal import invalidation


def _steps(category: Category):
    return list(
        Step.objects.filter(category=category)
        .select_related("department", "source")
        .annotate(default_grants=Count("grants", filter=Q(grants__batch__isnull=True)))
        .order_by("order", "id")
    )


def _describe(steps) -> None:
    for step in steps:
        step.condition_text = rules.describe(step.condition)


@office_view
def category_page(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    steps = _steps(category)
    _describe(steps)
    drafts = ChangeRequest.objects.filter(
        category=category, kind=ChangeRequest.Kind.ADD, status=ChangeRequest.Status.APPROVED
    ).select_related("department")
    batches = Batch.objects.filter(category=category).order_by("-opens_at")
    return render(
        request,
        "console/steps/list.html",
        {
            "category": category,
            "steps": steps,
            "drafts": drafts,
            "batches": batches,
            **setup_context(
                request, "steps", reverse("console:category_grants", args=[category.pk])
            ),
        },
    )


def _save_step(request, category: Category, step: Step | None, draft: ChangeRequest | None = None):
    initial = {}
    if draft is not None:
        initial = {
            "title": draft.title,
            "owner_type": draft.owner_type,
            "department": draft.department_id,
            "instructions": draft.instructions,
        }
    form = StepForm(request.POST or None, instance=step, category=category, initial=initial)
    conditions = ConditionFormSet(
        request.POST or None,
        prefix="cond",
        initial=condition_initial(step.condition if step else []),
    )
    if request.method == "POST" and form.is_valid() and conditions.is_valid():
        try:
            condition = condition_from(conditions)
        except rules.ConditionError as exc:
            form.add_error(None, str(exc))
        else:
            return _commit_step(request, category, form, condition, draft)
    return render(
        request,
        "console/steps/form.html",
        {
            "category": category,
            "form": form,
            "conditions": conditions,
            "step": step,
            "draft": draft,
            "setup": request.GET.get("setup"),
        },
    )


def _commit_step(request, category, form, condition, draft):
    creating = form.instance.pk is None
    # From the database: validation has already copied the new values onto the instance.
    before = (
        {}
        if creating
        else Step.objects.values("condition", "required", "is_final").get(pk=form.instance.pk)
    )
    who = actor(request)
    with transaction.atomic():
        step = form.save(commit=False)
        step.category = category
        step.condition = condition
        if creating:
            step.order = (
                Step.objects.filter(category=category)
                .order_by("-order")
                .values_list("order", flat=True)
                .first()
                or 0
            ) + 1
        step.save()
        data = {"step": step.id, "title": step.title, "changes": changes(form)}
        if creating:
            added = services.add_step_records(who, step)
            data["records_added"] = added
            if draft is not None:
                draft.step, draft.status = step, ChangeRequest.Status.DONE
                draft.save(update_fields=["step", "status"])
                data["change_request"] = draft.id
            audit(request, "console.step.created", data=data)
        else:
            condition_changed = before["condition"] != condition
            flags_changed = (
                before["required"] != step.required or before["is_final"] != step.is_final
            )
            if condition_changed:
                data["condition"] = [before["condition"], condition]
            audit(request, "console.step.updated", data=data)
            if condition_changed or flags_changed:
                reapplied = 0
                for batch in Batch.objects.filter(category=category).select_related("category"):
                    reapplied += services.reapply_conditions(who, batch)
                    if flags_changed:
                        services.refresh_completion(who, batch)
                if reapplied:
                    messages.info(
                        request,
                        _("已按新的设置重新判定 %(n)s 条环节状态。") % {"n": reapplied},
                    )
    messages.success(request, _("已保存环节“%(title)s”。") % {"title": step.title})
    url = reverse("console:category", args=[category.pk])
    return redirect(url + ("?setup=1" if request.GET.get("setup") else ""))


@office_view
def step_create(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    draft = None
    if request.GET.get("change_request"):
        draft = get_object_or_404(
            ChangeRequest,
            pk=request.GET["change_request"],
            category=category,
            kind=ChangeRequest.Kind.ADD,
            status=ChangeRequest.Status.APPROVED,
        )
    return _save_step(request, category, None, draft)


@office_view
def step_edit(request, category_id: int, pk: int):
    step = get_object_or_404(Step, pk=pk, category_id=category_id)
    return _save_step(request, step.category, step)


@office_view
def step_delete(request, category_id: int, pk: int):
    step = get_object_or_404(
        Step.objects.select_related("category"), pk=pk, category_id=category_id
    )
    if request.method == "POST":
        used = Record.objects.filter(step=step).count()
        if used:
            messages.error(
                request,
                _(
                    "“%(title)s”已用于 %(used)s 份离校单，不能删除（办理记录须保留）。"
                    "如不再需要，可将其设为非必办，或在新的离校类别中不再添加。"
                )
                % {"title": step.title, "used": used},
            )
        else:
            with transaction.atomic():
                audit(
                    request,
                    "console.step.deleted",
                    data={"step": step.id, "title": step.title, "category": step.category_id},
                )
                step.delete()
            messages.success(request, _("已删除环节“%(title)s”。") % {"title": step.title})
        return redirect("console:category", category_id)
    return render(request, "console/steps/delete.html", {"step": step, "category": step.category})


@office_view
def step_move(request, category_id: int, pk: int, direction: str):
    category = get_object_or_404(Category, pk=category_id)
    if request.method != "POST":
        return redirect("console:category", category.pk)
    with transaction.atomic():
        ordered = list(
            Step.objects.filter(category=category).select_for_update().order_by("order", "id")
        )
        index = next((i for i, s in enumerate(ordered) if s.pk == pk), None)
        if index is None:
            return redirect("console:category", category.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, step in enumerate(ordered, start=1):
                step.order = position
            Step.objects.bulk_update(ordered, ["order"])
            invalidation.categories_changed([category.pk])  # bulk_update sends no signal
            audit(
                request,
                "console.step.moved",
                data={"step": pk, "direction": direction, "order": [s.pk for s in ordered]},
            )
    if is_partial(request):
        steps = _steps(category)
        _describe(steps)
        return render(request, "console/steps/_steps.html", {"category": category, "steps": steps})
    return redirect("console:category", category.pk)
