"""A task whose worker died mid-run is noticed within bounded time and retried or failed visibly."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from lixiao.infra import workers
from lixiao.infra.models import WorkerBeat

pytestmark = pytest.mark.django_db(transaction=True)

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def running(task, worker_id: str, started_ago: int):
    result = task.enqueue(*([] if task.name == "send_emails" else [0]))
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    return row


def test_a_silent_worker_loses_its_task_once_and_a_beating_one_keeps_it(settings):
    from lixiao.notify.tasks import send_emails

    settings.TASKS = DB_TASKS
    settings.LIXIAO_WORKER_DEAD_SECONDS = 60
    dead = running(send_emails, "worker-dead", 300)
    alive = running(send_emails, "worker-alive", 300)
    WorkerBeat.objects.create(
        worker_id="worker-dead", beat_at=timezone.now() - timedelta(seconds=90)
    )
    WorkerBeat.objects.create(
        worker_id="worker-alive", beat_at=timezone.now() - timedelta(seconds=5)
    )
    assert workers.reap() == 1
    assert workers.reap() == 0  # a second worker looking finds nothing more to do
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == TaskResultStatus.FAILED and "worker-dead" in dead.traceback
    assert alive.status == TaskResultStatus.RUNNING


def test_a_task_just_started_by_a_worker_that_never_beat_is_not_lost_yet(settings):
    from lixiao.notify.tasks import send_emails

    settings.TASKS = DB_TASKS
    fresh = running(send_emails, "worker-new", 5)
    assert workers.reap() == 0
    fresh.refresh_from_db()
    assert fresh.status == TaskResultStatus.RUNNING
