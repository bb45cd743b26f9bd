"""Roster import (名单管理) of one batch: template, upload → preview → confirm, progress.

The helpers `start_preview` and `preview_context` are shared with the master-data imports:
one tabular mechanism (lixiao.tabular.jobs), one way of showing its preview.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance.models import Batch
from lixiao.console import importers
from lixiao.console.forms.imports import RosterConfirmForm, UploadForm
from lixiao.directory import codes, idnumbers
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError
from lixiao.tabular.schema import Column
from lixiao.tabular.writer import template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
office_only = role_required("office")  # the audit administrator reads the audit, nothing else


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def template_response(columns: list[Column], filename: str, notes=()) -> HttpResponse:
    return xlsx_response(template(columns, notes=notes), filename)


def start_preview(request, kind: str, context: dict) -> ImportJob | None:
    """Validate the uploaded file into a previewed job; None (with a message) when unusable."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的 .xlsx 或 .csv 文件。"))
        return None
    upload = form.cleaned_data["file"]
    # The import is audited when confirmed, possibly by the worker: it keeps the client's address.
    context = {**context, "client_ip": client_ip(request)}
    try:
        context = {
            **context,
            "client_ip": client_ip(request),
        }  # the audit names the uploader's address
        return jobs.preview(kind, request.user, upload.name, upload.read(), context)
    except TableError as exc:
        messages.error(request, str(exc))
        return None


def own_job(request, job_id: int, kind: str, **context) -> ImportJob:
    """A job of this kind and context, created by this person (another's upload is a 404)."""
    job = get_object_or_404(ImportJob, pk=job_id, kind=kind, created_by=request.user)
    if any(job.context.get(k) != v for k, v in context.items()):
        raise PermissionDenied
    return job


def preview_context(job: ImportJob) -> dict:
    preview = job.preview
    counts = preview.get("counts", {})
    offerable = counts.get("offerable_rows", 0) if isinstance(counts, dict) else 0
    error = job.result.get("error") if isinstance(job.result, dict) else None
    return {
        "job": job,
        # A background failure is stored in the default language; a known sentence is shown
        # in the reader's (see importers.IMPORT_FAILED).
        "failure": _(error) if error else "",
        "counts": counts,
        "errors": [_masked(e) for e in preview.get("errors", [])],
        "error_count": preview.get("error_count", 0),
        "good_rows": preview.get("good_rows", 0),
        "blocking": preview.get("error_count", 0) - offerable,
        "shown_all_errors": preview.get("error_count", 0) <= len(preview.get("errors", [])),
    }


def _masked(error: dict) -> dict:
    # Even a mistyped ID number is mostly a real one: its last 6 are an initial password.
    if error.get("column") == "身份证件号":
        return {**error, "value": idnumbers.mask(error.get("value", ""))}
    return error


@office_only
def roster(request, batch_id: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=batch_id)
    if request.method == "POST":
        job = start_preview(request, importers.RosterImporter.kind, {"batch": batch.id})
        if job is not None:
            return redirect("console:roster_preview", batch_id=batch.id, job_id=job.id)
        return redirect("console:roster", batch_id=batch.id)
    recent = ImportJob.objects.filter(
        kind=importers.RosterImporter.kind, context__batch=batch.id
    ).select_related("created_by")[:10]
    return render(
        request,
        "console/roster/roster.html",
        {
            "batch": batch,
            "form": UploadForm(),
            "recent": recent,
            "columns": importers.ROSTER_COLUMNS,
            "political_codes": codes.POLITICAL_STATUS_CODES,
            "background_rows": importers.BACKGROUND_ROWS,
        },
    )


@office_only
def roster_template(request):
    return template_response(
        importers.ROSTER_COLUMNS, "离校名单导入模板.xlsx", importers.ROSTER_NOTES
    )


@office_only
def roster_preview(request, batch_id: int, job_id: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=batch_id)
    job = importers.watched(own_job(request, job_id, importers.RosterImporter.kind, batch=batch.id))
    context = {"batch": batch, **preview_context(job)}
    if request.headers.get("HX-Request"):
        return render(request, "console/roster/_progress.html", context)
    return render(request, "console/roster/preview.html", context)


@office_only
@require_POST
def roster_confirm(request, batch_id: int, job_id: int):
    batch = get_object_or_404(Batch, pk=batch_id)
    job = own_job(request, job_id, importers.RosterImporter.kind, batch=batch.id)
    form = RosterConfirmForm(request.POST)
    form.is_valid()
    try:
        queued = importers.start_confirm(job, {k: bool(v) for k, v in form.cleaned_data.items()})
    except TableError as exc:
        messages.error(request, str(exc))
        return redirect("console:roster_preview", batch_id=batch.id, job_id=job.id)
    if queued:
        messages.info(request, _("名单较大，已转入后台导入，本页显示进度。"))
        return redirect("console:roster_preview", batch_id=batch.id, job_id=job.id)
    job.refresh_from_db()
    r = job.result
    messages.success(
        request,
        _("名单已导入：新建学生 %(created)s 人，更新 %(updated)s 人，新建离校单 %(forms)s 份。")
        % {
            "created": r["created_students"],
            "updated": r["updated_students"],
            "forms": r["new_forms"],
        },
    )
    return redirect("console:supervision", batch_id=batch.id)
