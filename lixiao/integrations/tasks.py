"""Background tasks (django-tasks): syncs run in the worker, enqueued once the data is committed."""

from django.db import transaction
from django_tasks import task

from lixiao.infra import workers
from lixiao.integrations.models import IntegrationSource, SyncRun
from lixiao.integrations.services import sync


@task()
def sync_task(
    source_id: int,
    trigger: str,
    student_numbers: list[str] | None = None,
    user_id: int | None = None,
) -> int:
    """Sync one source (all open forms, or these students'); returns the SyncRun id."""
    source = IntegrationSource.objects.get(pk=source_id)
    run = sync.sync_source(source, trigger, user=_user(user_id), student_numbers=student_numbers)
    return run.pk


@workers.on_lost("lixiao.integrations.tasks.sync_task")
def _worker_lost(source_id: int, trigger: str, *args, **kwargs) -> None:
    """The worker died mid-sync: each chunk committed was complete (the writer's transactions), the
    run is marked failed so the page stops saying it runs; the next sync finishes the work. The
    source's lease runs out by itself. A run of another live worker caught here by mistake
    corrects itself: it saves its whole row when it ends."""
    from django.utils import timezone

    SyncRun.objects.filter(source_id=source_id, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        errors=["同步进程意外停止，本次同步未完成；已写入的部分有效，请重新同步。"],
    )


def enqueue_sync(
    source: IntegrationSource, trigger: str, student_numbers: list[str] | None = None, user=None
) -> None:
    """Queue a sync after the current transaction commits, so the worker sees the new rows."""
    if student_numbers is not None and not student_numbers:
        return
    args = (
        source.pk,
        str(trigger),
        list(student_numbers) if student_numbers is not None else None,
        user.pk if user is not None else None,
    )
    transaction.on_commit(lambda: sync_task.enqueue(*args))


def running(source: IntegrationSource) -> SyncRun | None:
    return source.runs.filter(status=SyncRun.Status.RUNNING).first()


def _user(user_id):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()
