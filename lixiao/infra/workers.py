"""Task worker liveness: heartbeats, and what happens to a task whose worker died mid-run.

django-tasks' database worker marks a task RUNNING and only a finishing worker changes that: a
worker killed mid-task (kill -9, out of memory, a lost node) leaves it RUNNING for ever. Every
`manage.py task_worker` beats every LIXIAO_WORKER_BEAT_SECONDS and, on each beat, looks for
RUNNING tasks whose worker has been silent for LIXIAO_WORKER_DEAD_SECONDS: each is marked FAILED
once (a conditional update: one reaper wins) and the task's own handler, registered with
`on_lost`, retries it or tells the person (an import's page says it was interrupted).
"""

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus

log = logging.getLogger(__name__)
_handlers: dict[str, Callable] = {}


class WorkerLost(Exception):
    """Recorded as the failed task's exception: its worker stopped beating while running it."""


def on_lost(task_path: str):
    """Register fn(*args, **kwargs) (the task's own arguments) to run when that task is lost."""

    def register(fn):
        _handlers[task_path] = fn
        return fn

    return register


def beat(worker_id: str) -> None:
    from lixiao.infra.models import WorkerBeat

    now = timezone.now()
    WorkerBeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"beat_at": now, "host": socket.gethostname(), "pid": os.getpid()},
    )
    # Each start is a new worker id: forget those silent for a day (their tasks were reaped).
    WorkerBeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()


def lost_tasks(now=None):
    """RUNNING tasks whose worker has not beaten within LIXIAO_WORKER_DEAD_SECONDS."""
    from django_tasks_db.models import DBTaskResult

    from lixiao.infra.models import WorkerBeat

    now = now or timezone.now()
    silent_since = now - timedelta(seconds=settings.LIXIAO_WORKER_DEAD_SECONDS)
    running = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING))
    if not running:
        return []
    ids = {t.worker_ids[-1] for t in running if t.worker_ids}
    beats = dict(WorkerBeat.objects.filter(worker_id__in=ids).values_list("worker_id", "beat_at"))
    lost = []
    for task in running:
        worker = task.worker_ids[-1] if task.worker_ids else None
        last = beats.get(worker) or task.started_at or task.enqueued_at
        if last < silent_since:
            lost.append(task)
    return lost


def reap(now=None) -> int:
    """Mark every lost task FAILED and run its handler; returns how many this call reaped."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    reaped = 0
    for task in lost_tasks(now):
        worker = task.worker_ids[-1] if task.worker_ids else "?"
        won = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=f"WorkerLost: worker {worker} stopped beating while running this task",
        )
        if not won:
            continue  # another worker reaped it first
        reaped += 1
        log.warning("task %s (%s) lost with worker %s", task.pk, task.task_path, worker)
        try:
            import_string(task.task_path)  # its module registers the handler
        except ImportError:
            pass
        handler = _handlers.get(task.task_path)
        if handler is not None:
            args = task.args_kwargs or {}
            try:
                handler(*args.get("args", []), **args.get("kwargs", {}))
            except Exception:
                log.exception("the lost-task handler of %s failed", task.task_path)
    return reaped
