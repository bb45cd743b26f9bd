"""A scheduled job runs once per interval although every node runs a scheduler."""

from datetime import UTC, datetime, timedelta

import pytest

from lixiao.infra import schedule
from lixiao.infra.models import ScheduleSlot

pytestmark = pytest.mark.django_db


def test_one_node_takes_each_interval():
    now = datetime(2026, 6, 20, 8, 3, tzinfo=UTC)
    assert schedule.claim("sync:*", 600, now, node="node-a") is not None
    assert schedule.claim("sync:*", 600, now + timedelta(minutes=5), node="node-b") is None
    assert schedule.claim("sync:*", 600, now + timedelta(minutes=7), node="node-b") is not None
    assert schedule.claim("remind_deadlines", 86400, now, node="node-b") is not None
    slots = ScheduleSlot.objects.order_by("slot", "job")
    assert [(s.job, s.node) for s in slots] == [
        ("remind_deadlines", "node-b"),
        ("sync:*", "node-a"),
        ("sync:*", "node-b"),
    ]


def test_every_runs_the_job_on_one_of_two_schedulers():
    runs = []

    class Stop(Exception):
        pass

    def stop(seconds):
        assert 0.5 <= seconds <= 60.5
        raise Stop

    for node in ("a", "b"):
        with pytest.raises(Stop):
            schedule.every("export-cleanup", 60, lambda n=node: runs.append(n), sleep=stop)
    # Both schedulers woke in the same minute (barring a minute boundary between the two calls).
    assert len(runs) == 1 or ScheduleSlot.objects.count() == 2
    assert ScheduleSlot.objects.get(
        node__isnull=False, job="export-cleanup", pk=ScheduleSlot.objects.first().pk
    ).finished_at
