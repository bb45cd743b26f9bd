"""The office's imports on the one tabular mechanism (roster, master data) and how they are confirmed.

Small files are applied in the request; larger ones by a background task with a progress bar.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext_noop
from django_tasks import task

from lixiao.console.importers.masterdata import (  # noqa: F401 (the registry and the views use these)
    STAFF_COLUMNS,
    CollegeImporter,
    DepartmentImporter,
    StaffImporter,
)
from lixiao.console.importers.roster import ROSTER_COLUMNS, ROSTER_NOTES, RosterImporter  # noqa: F401
from lixiao.infra import workers
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError

BACKGROUND_ROWS = 5000  # larger imports are applied by the task worker, with a progress bar
# Stored on the job as it is (a background task has no reader); the preview page translates it.
IMPORT_FAILED = gettext_noop("导入失败，所有更改均已撤回。请稍后重试；如仍失败请联系技术支持。")
WORKER_LOST = gettext_noop(
    "后台导入进程意外停止（已自动重试一次），所有更改均已撤回。请重新上传文件；如仍失败请联系技术支持。"
)
RETRIES_AFTER_LOST_WORKER = 1
log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# confirming: in the request for small files, as a background task for large ones


def start_confirm(job: ImportJob, options: dict) -> bool:
    """Confirm with the preview's ticks; True when it was queued for the worker instead of applied now.

    Raises TableError (nothing written) when a small import cannot be applied.
    """
    job.context = {**job.context, **options}
    if job.preview.get("good_rows", 0) <= BACKGROUND_ROWS:
        job.save(update_fields=["context"])
        jobs.confirm(job)
        return False
    job.context["queued"] = True
    job.progress = 5
    job.save(update_fields=["context", "progress"])
    transaction.on_commit(lambda: apply_import.enqueue(job.pk))
    return True


@task()
def apply_import(job_id: int) -> dict:
    """Apply a confirmed import; on any failure nothing is written and the job says why."""
    job = ImportJob.objects.get(pk=job_id)
    try:
        job = jobs.confirm(job)
    except TableError as exc:
        _fail(job_id, str(exc))
        return {"error": str(exc)}
    except Exception:
        log.exception("import %s failed", job_id)
        _fail(job_id, IMPORT_FAILED)
        raise
    return job.result


def watched(job: ImportJob) -> ImportJob:
    """The job as its progress page should show it: while it runs in the background, a worker
    that died is noticed here too (every live worker also looks, on each heartbeat)."""
    if job.status == ImportJob.Status.PREVIEWED and job.context.get("queued") and workers.reap():
        job.refresh_from_db()
    return job


@workers.on_lost("lixiao.console.importers.apply_import")
def _worker_lost(job_id: int) -> None:
    """The worker died mid-import: its transaction rolled back, so nothing was written. Queue it
    once more (a worker killed by a passing cause); a second loss fails it with a message."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, status=ImportJob.Status.PREVIEWED)
            .first()
        )
        if job is None:
            return
        retries = job.context.get("retries", 0)
        if retries >= RETRIES_AFTER_LOST_WORKER:
            _fail(job_id, WORKER_LOST)
            return
        job.context = {**job.context, "retries": retries + 1}
        job.progress = 5
        job.save(update_fields=["context", "progress"])
        transaction.on_commit(lambda: apply_import.enqueue(job_id))


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.FAILED, result={"error": message}, progress=100
    )
