"""A batch's lifecycle (生命周期): open → closed → archived → purged, with the dates, the archive
export (progress, download, rebuild) and what the next purge will remove."""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.clearance import queries, services
from lixiao.clearance.models import Batch, BatchArchive, Lifecycle
from lixiao.clearance.services import lifecycle as batch_life
from lixiao.clearance.services import purge
from lixiao.console.access import actor, is_partial, office_view
from lixiao.console.views.roster import _quote, office_only

KEPT_SHOWN = 50


def _batch(pk: int) -> Batch:
    return get_object_or_404(Batch.objects.select_related("category", "archived_by"), pk=pk)


def _archive_context(batch: Batch) -> dict:
    archive = BatchArchive.objects.filter(batch=batch).first()
    return {
        "batch": batch,
        "archive": archive,
        "building": archive is not None and batch_life.in_progress(archive),
        # A failure is stored in the default language (a task has no reader): shown translated.
        "archive_error": _(archive.error) if archive and archive.error else "",
    }


def _timeline(batch: Batch, state: str) -> list[dict]:
    order = [Lifecycle.OPEN, Lifecycle.CLOSED, Lifecycle.ARCHIVED, Lifecycle.PURGED]
    reached = order.index(state) if state in order else -1
    return [
        {
            "key": key,
            "label": Lifecycle(key).label,
            "done": i <= reached,
            "current": i == reached,
            "at": at,
        }
        for i, (key, at) in enumerate(
            [
                (Lifecycle.OPEN, batch.opens_at),
                (Lifecycle.CLOSED, batch.closes_at),
                (Lifecycle.ARCHIVED, batch.archived_at),
                (Lifecycle.PURGED, batch.purged_at),
            ]
        )
    ]


@office_view
def lifecycle(request, pk: int):
    batch = _batch(pk)
    now = timezone.now()
    state = batch.lifecycle(now)
    completion = queries.batch_completion([batch]).get(batch.id, (0, 0))
    # What the purge will remove: for an archived batch not yet purged (a purged one says when).
    preview = purge.preview(batch, now) if batch.archived_at and not batch.purged_at else None
    due = preview.batches[0] if preview and preview.batches else None
    removed = [
        (purge.REMOVED_LABELS.get(key, key), n)
        for key, n in (preview.removed if due else {}).items()
        if n
    ]
    return render(
        request,
        "console/lifecycle/page.html",
        {
            **_archive_context(batch),
            "state": state,
            "state_label": Lifecycle(state).label,
            "timeline": _timeline(batch, state),
            "total": completion[0],
            "done": completion[1],
            "due_at": services.due_at(batch),
            "is_due": bool(batch.archived_at and services.due_at(batch) <= now),
            "due": due,
            "removed": removed,
            "kept": preview.kept[:KEPT_SHOWN] if preview else [],
            "more_kept": max(0, len(preview.kept) - KEPT_SHOWN) if preview else 0,
            "years": settings.LIXIAO_RETENTION_YEARS,
            "audit_days": settings.LIXIAO_AUDIT_RETENTION_DAYS,
        },
    )


@office_view
def archive_progress(request, pk: int):
    """The archive export's status; htmx polls it while the export is built."""
    batch = _batch(pk)
    if not is_partial(request):
        return redirect("console:lifecycle", pk=batch.pk)
    return render(request, "console/lifecycle/_archive.html", _archive_context(batch))


def _act(request, pk: int, service, done: str):
    batch = _batch(pk)
    try:
        service(actor(request), batch)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done % {"name": batch.name})
    return redirect("console:lifecycle", pk=batch.pk)


@office_view
@require_POST
def close(request, pk: int):
    return _act(
        request, pk, services.close_batch, _("已结束“%(name)s”的办理：办理人员不能再更改。")
    )


@office_view
@require_POST
def archive(request, pk: int):
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请先勾选确认：归档后任何人都不能再更改本批次的离校单。"))
        return redirect("console:lifecycle", pk=pk)
    return _act(
        request,
        pk,
        services.archive_batch,
        _("已归档“%(name)s”：离校单已只读，归档文件正在后台生成。"),
    )


@office_view
@require_POST
def rebuild(request, pk: int):
    return _act(request, pk, services.rebuild_archive, _("已开始重新生成“%(name)s”的归档文件。"))


@office_only
def archive_download(request, pk: int):
    """The archive file, for the office only (it holds personal data); each download is audited."""
    batch = _batch(pk)
    archive = BatchArchive.objects.filter(batch=batch, status=BatchArchive.Status.DONE).first()
    if archive is None or not archive.file:
        raise Http404
    try:
        handle = archive.file.open("rb")
    except FileNotFoundError:
        messages.error(request, _("归档文件在存储中找不到了，请重新生成。"))
        return redirect("console:lifecycle", pk=batch.pk)
    services.log(
        actor(request),
        "clearance.archive.downloaded",
        batch=batch,
        data={"batch": batch.id, "sha256": archive.sha256, "bytes": archive.size},
    )
    response = FileResponse(handle, content_type="application/zip")
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{_quote(f'{batch.name}-归档文件.zip')}"
    )
    return response
