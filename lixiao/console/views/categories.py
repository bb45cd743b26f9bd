"""Categories (离校类别): list, create (the start of the guided set-up), edit, delete."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Category
from lixiao.console.access import actor, audit, office_view
from lixiao.console.forms.categories import CategoryForm

# The manual's guided path: name and rule → steps → grants → service settings → done.
CATEGORY_SETUP = [
    ("name", gettext_lazy("名称与规则")),
    ("steps", pgettext_lazy("plural", "环节")),
    ("grants", pgettext_lazy("plural", "人员授权")),
    ("service", gettext_lazy("学生服务设置")),
    ("done", gettext_lazy("完成")),
]


def setup_context(
    request, current: str, next_url: str | None = None, sequence=CATEGORY_SETUP, force: bool = False
) -> dict:
    """Progress of the guided set-up (only when the page was reached through it: ?setup=1)."""
    if not (force or request.GET.get("setup")):
        return {}
    keys = [key for key, _label in sequence]
    return {
        "setup": {
            "steps": sequence,
            "current": current,
            "index": keys.index(current),
            "next_url": next_url and f"{next_url}?setup=1",
        }
    }


def join_names(names) -> str:
    """Names listed in a sentence: 、 in Chinese, a comma in English."""
    return pgettext("list separator", "、").join(names)


def changes(form) -> dict:
    """{field: [before, after]} for an audit event, from a bound ModelForm's initial data."""
    return {
        name: [str(form.initial.get(name, "")), str(form.cleaned_data.get(name, ""))]
        for name in form.changed_data
    }


@office_view
def category_list(request):
    categories = Category.objects.annotate(
        step_count=Count("steps", distinct=True), batch_count=Count("batches", distinct=True)
    ).order_by("id")
    return render(request, "console/categories/list.html", {"categories": categories})


@office_view
def category_create(request):
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            category = form.save()
            audit(
                request,
                "console.category.created",
                data={
                    "category": category.id,
                    "name": category.name,
                    "completion_rule": category.completion_rule,
                },
            )
        messages.success(
            request,
            _("已创建离校类别“%(name)s”，下一步：添加环节。") % {"name": category.name},
        )
        return redirect(reverse("console:category", args=[category.pk]) + "?setup=1")
    return render(
        request,
        "console/categories/form.html",
        {"form": form, **setup_context(request, "name", force=True)},
    )


@office_view
def category_edit(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        rule_changed = "completion_rule" in form.changed_data
        with transaction.atomic():
            form.save()
            audit(
                request,
                "console.category.updated",
                data={"category": category.id, "changes": changes(form)},
            )
            if rule_changed:
                for batch in Batch.objects.filter(category=category).select_related("category"):
                    services.refresh_completion(actor(request), batch)
        messages.success(request, _("已保存“%(name)s”。") % {"name": category.name})
        return redirect("console:category", category.pk)
    return render(request, "console/categories/form.html", {"form": form, "category": category})


@office_view
def category_delete(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    if request.method == "POST":
        batches = list(Batch.objects.filter(category=category).values_list("name", flat=True))
        if batches:
            messages.error(
                request,
                _(
                    "“%(name)s”正被离校批次使用（%(batches)s），不能删除；"
                    "请先删除或改用其他类别的批次。"
                )
                % {"name": category.name, "batches": join_names(batches)},
            )
            return redirect("console:category", category.pk)
        with transaction.atomic():
            audit(
                request,
                "console.category.deleted",
                data={"category": category.id, "name": category.name},
            )
            category.delete()
        messages.success(request, _("已删除离校类别“%(name)s”。") % {"name": category.name})
        return redirect("console:category_list")
    return render(request, "console/categories/delete.html", {"category": category})


@office_view
def category_setup_done(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    return render(
        request,
        "console/categories/done.html",
        {
            "category": category,
            "step_count": category.steps.count(),
            "grant_count": category.steps.filter(grants__batch__isnull=True).count(),
            **setup_context(request, "done", force=True),
        },
    )
