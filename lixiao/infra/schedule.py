"""Scheduled jobs that run once per interval although a scheduler runs on every node.

Each node's loop wakes at the start of every interval (aligned to the clock, so all nodes agree
which interval it is) and tries to insert the (job, slot) row: the unique constraint lets exactly
one node win; the others skip that interval.
"""

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone


def slot_of(now: datetime, interval: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval, tz=UTC)


def claim(job: str, interval: int, now: datetime | None = None, node: str = ""):
    """The ScheduleSlot row when this node takes this interval's run of `job`, else None."""
    from lixiao.infra.models import ScheduleSlot

    now = now or timezone.now()
    try:
        with transaction.atomic():
            return ScheduleSlot.objects.create(
                job=job, slot=slot_of(now, interval), node=node or socket.gethostname()
            )
    except IntegrityError:
        return None


def finish(slot) -> None:
    type(slot).objects.filter(pk=slot.pk).update(finished_at=timezone.now())


def every(job: str, interval: int, run: Callable[[], object], sleep=None) -> None:
    """Forever: at each interval's start, run `run` if this node claimed the interval."""
    sleep = sleep or time.sleep
    while True:
        slot = claim(job, interval)
        if slot is not None:
            try:
                run()
            finally:
                finish(slot)
        now = time.time()
        sleep(interval - now % interval + 0.5)  # just past the next interval's start
        close_old_connections()  # a long sleep outlives the database's idle timeout
