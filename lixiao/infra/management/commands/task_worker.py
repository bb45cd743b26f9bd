"""manage.py task_worker: django-tasks' db_worker that also beats and notices lost tasks."""

import threading
import time

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands import db_worker

from lixiao.infra import workers


def _beating(worker_id: str, stop: threading.Event) -> None:
    # Its own thread (and so its own database connection): a long task must not stop the beat.
    while not stop.is_set():
        try:
            workers.beat(worker_id)
            workers.reap()
        except Exception:  # the database may be away for a moment; beat again next time
            workers.log.exception("worker heartbeat failed")
        finally:
            connection.close()
        stop.wait(settings.LIXIAO_WORKER_BEAT_SECONDS)


class Command(db_worker.Command):
    help = (
        "Run the background task worker (django-tasks' db_worker) with a heartbeat: a task whose "
        "worker dies mid-run is noticed by any other worker and retried or marked failed."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        beat = threading.Thread(
            target=_beating, args=(options["worker_id"], stop), name="heartbeat", daemon=True
        )
        beat.start()
        time.sleep(0)  # let the first beat start before a task is claimed
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
