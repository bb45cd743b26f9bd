"""Master data (基础数据): colleges, departments and staff — list, search, create, edit, import."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from lixiao.clearance import services
from lixiao.console import importers
from lixiao.console.access import actor
from lixiao.console.forms.imports import UploadForm
from lixiao.console.forms.masterdata import CollegeForm, DepartmentForm, SearchForm, StaffForm
from lixiao.console.views.roster import (
    office_only,
    own_job,
    preview_context,
    start_preview,
    template_response,
)
from lixiao.directory.models import College, Department, Staff
from lixiao.tabular.reader import TableError

PAGE_SIZE = 50


@dataclass(frozen=True)
class Kind:
    """`label` is the Chinese word used in audit notes and file names; pages show `title`
    (a tab or heading), `plural` and `singular` (inside sentences), which English tells apart."""

    slug: str
    label: str
    model: type
    form: type
    importer: type
    search: tuple[str, ...]
    related: tuple[str, ...] = ()
    title: Promise | str = ""
    plural: Promise | str = ""
    singular: Promise | str = ""


KINDS = {
    "colleges": Kind(
        "colleges",
        "院系",
        College,
        CollegeForm,
        importers.CollegeImporter,
        ("code", "name"),
        title=pgettext_lazy("master data tab", "院系"),
        plural=pgettext_lazy("master data, several", "院系"),
        singular=pgettext_lazy("master data, one", "院系"),
    ),
    "departments": Kind(
        "departments",
        "职能部门",
        Department,
        DepartmentForm,
        importers.DepartmentImporter,
        ("code", "name"),
        title=pgettext_lazy("master data tab", "职能部门"),
        plural=pgettext_lazy("master data, several", "职能部门"),
        singular=pgettext_lazy("master data, one", "职能部门"),
    ),
    "staff": Kind(
        "staff",
        "教职工",
        Staff,
        StaffForm,
        importers.StaffImporter,
        ("staff_number", "name"),
        ("college", "department", "user"),
        title=pgettext_lazy("master data tab", "教职工"),
        plural=pgettext_lazy("master data, several", "教职工"),
        singular=pgettext_lazy("master data, one", "教职工"),
    ),
}


def _kind(slug: str) -> Kind:
    if slug not in KINDS:
        raise Http404
    return KINDS[slug]


@office_only
def masterdata(request, kind: str = "colleges"):
    k = _kind(kind)
    search = SearchForm(request.GET)
    qs = k.model.objects.select_related(*k.related).order_by(k.search[0])
    q = search.data.get("q", "").strip()
    if q:
        cond = Q()
        for field in k.search:
            cond |= Q(**{f"{field}__icontains": q})
        qs = qs.filter(cond)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/masterdata/list.html",
        {
            "kind": k,
            "kinds": KINDS.values(),
            "page": page,
            "search": search,
            "q": q,
        },
    )


@office_only
def masterdata_edit(request, kind: str, pk: int | None = None):
    k = _kind(kind)
    instance = get_object_or_404(k.model, pk=pk) if pk else None
    form = k.form(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = _save(request, k, form)
        messages.success(
            request, _("已保存%(kind)s“%(name)s”。") % {"kind": k.singular, "name": obj}
        )
        return redirect("console:masterdata_kind", kind=k.slug)
    return render(
        request, "console/masterdata/edit.html", {"kind": k, "form": form, "instance": instance}
    )


def _save(request, k: Kind, form):
    """Through the core's service (audit, the students' page versions, the desk's college list)."""
    if k.slug != "staff":
        return services.save_place(actor(request), k.slug, form.instance, form.cleaned_data)
    return services.save_staff(
        actor(request),
        form.instance,
        form.cleaned_data,
        id_number=form.cleaned_data.get("id_number") or "",
    )


@office_only
def masterdata_template(request, kind: str):
    k = _kind(kind)
    notes = (
        [
            "职工号已存在的行将更新该教职工；新教职工随之创建账号。",
            "填写身份证件号的，初始密码为其后 6 位；未填写的账号暂无可用密码，须由管理员重置。",
        ]
        if k.slug == "staff"
        else ["代码已存在的行将更新其名称；代码不存在的行新建。"]
    )
    return template_response(k.importer.columns, f"{k.label}导入模板.xlsx", notes)


@office_only
def masterdata_import(request, kind: str):
    k = _kind(kind)
    if request.method == "POST":
        job = start_preview(request, k.importer.kind, {})
        if job is not None:
            return redirect("console:masterdata_preview", kind=k.slug, job_id=job.id)
    return render(request, "console/masterdata/import.html", {"kind": k, "form": UploadForm()})


@office_only
def masterdata_preview(request, kind: str, job_id: int):
    k = _kind(kind)
    job = own_job(request, job_id, k.importer.kind)
    return render(request, "console/masterdata/preview.html", {"kind": k, **preview_context(job)})


@office_only
@require_POST
def masterdata_confirm(request, kind: str, job_id: int):
    k = _kind(kind)
    job = own_job(request, job_id, k.importer.kind)
    try:
        importers.start_confirm(job, {})
    except TableError as exc:
        messages.error(request, str(exc))
        return redirect("console:masterdata_preview", kind=k.slug, job_id=job.id)
    job.refresh_from_db()
    messages.success(
        request,
        _("%(kind)s已导入：新建 %(created)s 条，更新 %(updated)s 条。")
        % {"kind": k.title, "created": job.result["created"], "updated": job.result["updated"]},
    )
    return redirect("console:masterdata_kind", kind=k.slug)
