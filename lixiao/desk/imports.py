"""Import results for one of my steps from .xlsx/.csv: template, upload → preview → confirm."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.network import client_ip
from lixiao.clearance.rules import Refused
from lixiao.desk.access import desk_required, my_step, reach_for
from lixiao.desk.importers import NOTES, DeskRecords
from lixiao.desk.views import XLSX
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError
from lixiao.tabular.writer import template


@desk_required
def import_template(request, batch_id: int):
    reach_for(request, batch_id)
    response = HttpResponse(template(DeskRecords.columns, notes=NOTES), content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote('现场办理导入模板.xlsx')}"
    )
    return response


@desk_required
def upload(request, batch_id: int):
    reach = reach_for(request, batch_id)
    batch, steps = reach.batch, reach.steps
    if request.method == "POST":
        step = my_step(reach, request.POST.get("step"))
        job = _preview(request, batch, step)
        if job is not None:
            return redirect("desk:import_preview", batch_id=batch.id, job_id=job.id)
    recent = ImportJob.objects.filter(
        kind=DeskRecords.kind, created_by=request.user, context__batch=batch.id
    )[:10]
    return render(
        request,
        "desk/import.html",
        {
            "batch": batch,
            "steps": steps,
            "recent": recent,
            "chosen": request.POST.get("step", ""),
            "max_mb": settings.LIXIAO_UPLOAD_MAX_BYTES // (1024 * 1024),
        },
    )


def _preview(request, batch, step) -> ImportJob | None:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的 .xlsx 或 .csv 文件。"))
        return None
    if upload.size > settings.LIXIAO_UPLOAD_MAX_BYTES:
        limit = settings.LIXIAO_UPLOAD_MAX_BYTES // (1024 * 1024)
        messages.error(
            request, _("文件超过 %(limit)s MB 上限，请拆分后分批上传。") % {"limit": limit}
        )
        return None
    context = {"batch": batch.id, "step": step.id, "client_ip": client_ip(request)}
    try:
        return jobs.preview(DeskRecords.kind, request.user, upload.name, upload.read(), context)
    except TableError as exc:
        messages.error(request, str(exc))
        return None


def _own_job(request, reach, job_id: int) -> ImportJob:
    """Only the person's own upload for this batch, and only while the step is still theirs."""
    job = ImportJob.objects.filter(
        pk=job_id, kind=DeskRecords.kind, created_by=request.user, context__batch=reach.batch.id
    ).first()
    if job is None:
        raise Http404
    job.step = my_step(reach, job.context.get("step"))
    return job


@desk_required
def preview(request, batch_id: int, job_id: int):
    reach = reach_for(request, batch_id)
    batch = reach.batch
    job = _own_job(request, reach, job_id)
    p = job.preview
    return render(
        request,
        "desk/import_preview.html",
        {
            "batch": batch,
            "job": job,
            "step": job.step,
            "counts": p.get("counts", {}),
            "errors": p.get("errors", []),
            "error_count": p.get("error_count", 0),
            "good_rows": p.get("good_rows", 0),
        },
    )


@require_POST
@desk_required
def confirm(request, batch_id: int, job_id: int):
    reach = reach_for(request, batch_id)
    batch = reach.batch
    job = _own_job(request, reach, job_id)
    try:
        job = jobs.confirm(job)
    except (TableError, Refused) as exc:  # already applied, or the service window closed
        messages.error(request, str(exc))
        return redirect("desk:import_preview", batch_id=batch.id, job_id=job.id)
    r = job.result
    values = {
        "step": job.step.title,
        "changed": r["changed"],
        "unchanged": r["unchanged"],
        "skipped": r.get("skipped_errors") or 0,
        "refused": len(r.get("refused") or []),
    }
    if values["skipped"] and values["refused"]:
        text = _(
            "已导入“%(step)s”：变更 %(changed)s 人，无变化 %(unchanged)s 人，"
            "跳过有问题的行 %(skipped)s 行，被拒绝 %(refused)s 行。"
        )
    elif values["skipped"]:
        text = _(
            "已导入“%(step)s”：变更 %(changed)s 人，无变化 %(unchanged)s 人，"
            "跳过有问题的行 %(skipped)s 行。"
        )
    elif values["refused"]:
        text = _(
            "已导入“%(step)s”：变更 %(changed)s 人，无变化 %(unchanged)s 人，"
            "被拒绝 %(refused)s 行。"
        )
    else:
        text = _("已导入“%(step)s”：变更 %(changed)s 人，无变化 %(unchanged)s 人。")
    messages.success(request, text % values)
    return redirect("desk:import_preview", batch_id=batch.id, job_id=job.id)
