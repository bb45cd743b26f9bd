"""Steps (环节) of a category: the category page, create, edit (conditions), move, delete."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lixiao.clearance import rules, services
from lixiao.clearance.models import Batch, Category, ChangeRequest, Step
from lixiao.console.access import actor, is_partial, office_view
from lixiao.console.forms.steps import ConditionFormSet, StepForm, condition_from, condition_initial
from lixiao.console.views.categories import setup_context


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
            if step is None:
                saved = services.create_step(
                    actor(request), category, form.cleaned_data, condition, change_request=draft
                )
            else:
                saved = services.update_step(actor(request), step, form.cleaned_data, condition)
        except (rules.ConditionError, services.Refused) as exc:
            form.add_error(None, str(exc))
        else:
            if saved.reapplied:
                messages.info(
                    request,
                    _("已按新的设置重新判定 %(n)s 条环节状态。") % {"n": saved.reapplied},
                )
            messages.success(request, _("已保存环节“%(title)s”。") % {"title": saved.step.title})
            url = reverse("console:category", args=[category.pk])
            return redirect(url + ("?setup=1" if request.GET.get("setup") else ""))
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
        try:
            services.delete_step(actor(request), step)
        except services.Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("已删除环节“%(title)s”。") % {"title": step.title})
        return redirect("console:category", category_id)
    return render(request, "console/steps/delete.html", {"step": step, "category": step.category})


@office_view
def step_move(request, category_id: int, pk: int, direction: str):
    category = get_object_or_404(Category, pk=category_id)
    if request.method != "POST":
        return redirect("console:category", category.pk)
    services.move_step(actor(request), category, pk, direction)
    if is_partial(request):
        steps = _steps(category)
        _describe(steps)
        return render(request, "console/steps/_steps.html", {"category": category, "steps": steps})
    return redirect("console:category", category.pk)
