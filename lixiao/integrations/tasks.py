"""Background tasks (django-tasks): syncs run in the worker, enqueued once the data is committed."""

from django.db import transaction
from django_tasks import task

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
