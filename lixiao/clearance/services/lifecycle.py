"""A batch after its service window: end it now, archive it (read-only for everyone, with its
archive export built by a background task), rebuild that export, and when its students' personal
data falls due for the retention purge."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.clearance import tasks
from lixiao.clearance.models import Batch, BatchArchive, Form
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office

# A queued or running export not finished after this long is taken as lost (a worker that
# died): the office may ask for it again.
STALE_AFTER = timedelta(hours=2)


def years_after(moment: datetime, years: int) -> datetime:
    """The same local day and time `years` later (29 February → 28 February)."""
    local = timezone.localtime(moment)
    try:
        return local.replace(year=local.year + years)
    except ValueError:
        return local.replace(year=local.year + years, day=28)


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def due_at(batch: Batch, years: int | None = None) -> datetime | None:
    """When the batch's students' personal data falls due for the purge (None: not archived)."""
    if batch.archived_at is None:
        return None
    return years_after(
        batch.archived_at, settings.LIXIAO_RETENTION_YEARS if years is None else years
    )


def close_batch(actor: Actor, batch: Batch) -> Batch:
    """End the service window now (结束办理): handlers can no longer change records."""
    require_office(actor)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        now = timezone.now()
        if batch.archived_at is not None:
            raise Refused(_("批次“%(name)s”已归档。") % {"name": batch.name}, "archived")
        state = batch.window_state(now)
        if state == "closed":
            raise Refused(
                _("批次“%(name)s”已于 %(closes)s 结束办理。")
                % {
                    "name": batch.name,
                    "closes": f"{timezone.localtime(batch.closes_at):%Y-%m-%d %H:%M}",
                },
                "already_closed",
            )
        if state == "not_yet":
            raise Refused(
                _(
                    "批次“%(name)s”尚未开始办理，不能结束；如不再需要，可在“编辑基本信息”中将其设为不使用。"
                )
                % {"name": batch.name},
                "not_yet",
            )
        before = batch.closes_at
        batch.closes_at = now
        batch.save(update_fields=["closes_at"])
        audit.log(
            actor,
            "console.batch.closed",
            batch=batch,
            data={
                "batch": batch.id,
                "changes": {"closes_at": [_local(before), _local(now)]},
            },
        )
    return batch


def archive_batch(actor: Actor, batch: Batch) -> BatchArchive:
    """Archive a batch whose window has ended: from now on the writer refuses every change on
    its forms (the office's too), and its archive export is built in the background.

    The batch row is locked FOR UPDATE: a writer holding its share lock (require_writable)
    finishes first, and any later one sees the batch archived.
    """
    require_office(actor)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        now = timezone.now()
        if batch.archived_at is not None:
            raise Refused(
                _("批次“%(name)s”已于 %(date)s 归档。")
                % {"name": batch.name, "date": f"{timezone.localtime(batch.archived_at):%Y-%m-%d}"},
                "already_archived",
            )
        if batch.window_state(now) != "closed":
            raise Refused(
                _("批次“%(name)s”的服务时间到 %(closes)s 才结束：请先结束办理，再归档。")
                % {
                    "name": batch.name,
                    "closes": f"{timezone.localtime(batch.closes_at):%Y-%m-%d %H:%M}",
                },
                "window_open",
            )
        batch.archived_at, batch.archived_by = now, actor.user
        batch.save(update_fields=["archived_at", "archived_by"])
        archive = _queue(actor, batch, now)
        audit.log(
            actor,
            "clearance.batch.archived",
            batch=batch,
            at=now,
            data={
                "batch": batch.id,
                "forms": Form.objects.filter(batch=batch).count(),
                "retention_years": settings.LIXIAO_RETENTION_YEARS,
                "purge_due": due_at(batch).date().isoformat(),
            },
        )
    return archive


def rebuild_archive(actor: Actor, batch: Batch) -> BatchArchive:
    """Build the archive export again (after a failure, or after the purge: then without the
    personal data). Refused while one is being built."""
    require_office(actor)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.archived_at is None:
            raise Refused(_("批次尚未归档，没有归档文件可生成。"), "not_archived")
        current = BatchArchive.objects.filter(batch=batch).first()
        if current is not None and in_progress(current):
            raise Refused(_("归档文件正在生成，请稍候。"), "in_progress")
        now = timezone.now()
        archive = _queue(actor, batch, now)
        audit.log(
            actor, "clearance.archive.requested", batch=batch, at=now, data={"batch": batch.id}
        )
    return archive


def in_progress(archive: BatchArchive, now: datetime | None = None) -> bool:
    """Queued or running, and not so long ago that its worker must have died."""
    if archive.status not in (BatchArchive.Status.QUEUED, BatchArchive.Status.RUNNING):
        return False
    since = archive.started_at or archive.requested_at
    return since > (now or timezone.now()) - STALE_AFTER


def _queue(actor: Actor, batch: Batch, now: datetime) -> BatchArchive:
    """Mark the export wanted and enqueue the task once this transaction commits. A file built
    before stays downloadable until the new one replaces it."""
    archive, _created = BatchArchive.objects.select_for_update().get_or_create(batch=batch)
    archive.status = BatchArchive.Status.QUEUED
    archive.progress = 0
    archive.requested_by = actor.user
    archive.requested_at = now
    archive.started_at = archive.finished_at = None
    archive.error = ""
    archive.save()
    batch_id = batch.id
    transaction.on_commit(lambda: tasks.build_archive.enqueue(batch_id))
    return archive
