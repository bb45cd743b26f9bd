"""Categories (离校类别): list, create (the start of the guided set-up), edit, delete."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from lixiao.clearance import services
from lixiao.clearance.models import Category
from lixiao.console.access import actor, office_view
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
        category = services.create_category(actor(request), form.cleaned_data)
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
        services.update_category(actor(request), category, form.cleaned_data)
        messages.success(request, _("已保存“%(name)s”。") % {"name": category.name})
        return redirect("console:category", category.pk)
    return render(request, "console/categories/form.html", {"form": form, "category": category})


@office_view
def category_delete(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    if request.method == "POST":
        try:
            services.delete_category(actor(request), category)
        except services.Refused as refusal:
            messages.error(request, str(refusal))
            return redirect("console:category", category.pk)
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
