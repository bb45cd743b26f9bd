"""The task queue as operations see it: how many wait, how long the oldest has, which look stuck."""

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def queue_state(stale_after: int) -> dict:
    """Queued count, the oldest queued task's age and running count; ok while the oldest is younger
    than stale_after seconds (a worker that keeps up takes a task within seconds)."""
    now = timezone.now()
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    oldest = queued.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    age = (now - oldest).total_seconds() if oldest else 0.0
    return {
        "ok": age <= stale_after,
        "queued": queued.count(),
        "running": DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count(),
        "oldest_queued_seconds": round(age),
    }
