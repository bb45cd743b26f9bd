"""Source pages: rows and freshness, sync log, sync now, push token, upload, and the desk's recheck."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance import scope, services
from lixiao.clearance.models import Record
from lixiao.integrations import queries
from lixiao.integrations.forms import PullForm, UploadForm
from lixiao.integrations.importers import KIND, SourceRows
from lixiao.integrations.models import IntegrationSource, SyncRun
from lixiao.integrations.services import sync, tokens
from lixiao.integrations.tasks import enqueue_sync, running
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError
from lixiao.tabular.writer import template

STAFF = ("office", "department")


def _source(request, code: str) -> IntegrationSource:
    """Access-checked fetch: a source the person may not manage is not found (404)."""
    return get_object_or_404(queries.manageable_sources(request.user), code=code)


def _audit(request, action: str, source: IntegrationSource) -> None:
    # The client as every audit records it: behind nginx REMOTE_ADDR is the proxy itself.
    actor = services.Actor(user=request.user, source="admin", client_ip=client_ip(request))
    services.log(actor, action, note=source.name, data={"source": source.code})


def _is_partial(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@role_required(*STAFF)
def source_list(request):
    sources = list(queries.manageable_sources(request.user))
    return render(request, "integrations/list.html", {"sources": sources})


@role_required(*STAFF)
def source_detail(request, code: str, new_token: str = ""):
    source = _source(request, code)
    context = {
        "source": source,
        "runs": queries.recent_runs(source),
        "counts": queries.counts(source),
        "running": running(source),
        "steps": source.steps.select_related("category"),
        "is_office": scope.is_office(request.user),
        "new_token": new_token,
        "upload_form": UploadForm(),
        "pull_form": PullForm(instance=source),
        "example_number": "2022000001",
    }
    if _is_partial(request):
        return render(request, "integrations/_runs.html", context)
    return render(request, "integrations/detail.html", context)


@require_POST
@role_required(*STAFF)
def source_sync(request, code: str):
    source = _source(request, code)
    enqueue_sync(source, SyncRun.Trigger.MANUAL, user=request.user)
    messages.success(
        request, _("已开始同步%(source)s，结果见下方同步记录。") % {"source": source.name}
    )
    return redirect("integrations:detail", code=source.code)


@require_POST
@role_required("office")
def source_token(request, code: str):
    """Rotate or revoke the push token; a new token is shown on this response only, never again."""
    source = _source(request, code)
    if request.POST.get("action") == "revoke":
        tokens.revoke_token(source)
        _audit(request, "integrations.token.revoked", source)
        messages.success(request, _("推送令牌已撤销：使用旧令牌的推送将被拒绝（401）。"))
        return redirect("integrations:detail", code=source.code)
    raw = tokens.rotate_token(source)
    _audit(request, "integrations.token.rotated", source)  # the token itself never reaches a log
    response = source_detail(request, code, new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required("office")
def source_pull(request, code: str):
    source = _source(request, code)
    form = PullForm(request.POST, instance=source)
    if form.is_valid():
        with transaction.atomic():
            form.save()
            if "stale_after_hours" in form.changed_data:
                # Students' pages say "数据已过期" by this limit: every category shows sources.
                services.categories_changed()
            _audit(request, "integrations.pull.configured", source)
        messages.success(request, _("拉取配置已保存；下一次同步时按此配置拉取。"))
    else:
        for error in (e for errs in form.errors.values() for e in errs):
            messages.error(request, _("拉取配置有误：%(error)s") % {"error": error})
    return redirect("integrations:detail", code=source.code)


@role_required(*STAFF)
def source_template(request, code: str):
    source = _source(request, code)
    # The workbook is file content: its headers and notes stay in Chinese whatever the page language.
    data = template(SourceRows.columns, notes=["是否结清：是/否、通过/未通过、true/false 或 1/0"])
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{source.code}-template.xlsx"'
    return response


@require_POST
@role_required(*STAFF)
def source_upload(request, code: str):
    source = _source(request, code)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的 .xlsx 或 .csv 文件。"))
        return redirect("integrations:detail", code=source.code)
    upload = form.cleaned_data["file"]
    try:
        job = jobs.preview(
            KIND,
            request.user,
            upload.name,
            upload.read(),
            {"source": source.pk, "mode": form.cleaned_data["mode"]},
        )
    except TableError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:detail", code=source.code)
    return redirect("integrations:upload_job", code=source.code, job_id=job.pk)


@role_required(*STAFF)
def upload_job(request, code: str, job_id: int):
    source = _source(request, code)
    job = get_object_or_404(
        ImportJob, pk=job_id, kind=KIND, created_by=request.user, context__source=source.pk
    )
    if request.method == "POST":
        try:
            job = jobs.confirm(job)
        except TableError as exc:
            messages.error(request, str(exc))
            return redirect("integrations:detail", code=source.code)
        messages.success(
            request,
            _(
                "已导入：新增 %(inserted)s，更新 %(updated)s，未变化 %(unchanged)s，"
                "删除 %(deleted)s，未匹配学号 %(unmatched)s；受影响的学生正在同步。"
            )
            % job.result,
        )
        return redirect("integrations:detail", code=source.code)
    return render(request, "integrations/upload_preview.html", {"source": source, "job": job})


@require_POST
@role_required("office", "department", "counselor")
def recheck(request, record_id: int):
    """Re-sync one student's automatic step now; anyone who may read the form may ask."""
    record = get_object_or_404(
        Record.objects.select_related("form__batch", "form__student", "step__source"),
        pk=record_id,
        step__automatic=True,
        step__source__isnull=False,
    )
    reach = scope.reach(request.user, record.form.batch_id)
    if reach is None or not reach.may_read(record.form.college_id, record.form.counselor_id):
        raise Http404
    run = sync.recheck(record, user=request.user)
    record.refresh_from_db()
    context = {
        "record": record,
        "run": run,
        "freshness": queries.form_freshness(record.form).get(record.step_id, {}),
    }
    if _is_partial(request):
        return render(request, "integrations/_recheck.html", context)
    # The step title and the reason are data (the reason is stored and shown to the student).
    values = {"step": record.step.title, "state": record.get_state_display()}
    if record.reason:
        values["reason"] = record.reason
        messages.info(request, _("已复查：%(step)s %(state)s（%(reason)s）") % values)
    else:
        messages.info(request, _("已复查：%(step)s %(state)s") % values)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        target = "accounts:home"
    return redirect(target)
