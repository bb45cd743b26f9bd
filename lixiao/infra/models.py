"""Rows every node reads and writes: stored files, task workers' heartbeats, scheduled job slots."""

from django.db import models
from django.utils import timezone


class StoredFile(models.Model):
    """A file kept in the database (LIXIAO_FILE_STORAGE=database): every node reads the same one."""

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class WorkerBeat(models.Model):
    """A task worker says it is alive every few seconds; a task whose worker went silent is lost."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.worker_id} @ {self.host}:{self.pid}"


class ScheduleSlot(models.Model):
    """One run of a scheduled job per interval: the node that inserts the slot's row runs it."""

    job = models.CharField(max_length=64)
    slot = models.DateTimeField()  # the start of the interval this run belongs to
    node = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_run_per_slot")]

    def __str__(self):
        return f"{self.job} {self.slot:%Y-%m-%d %H:%M} on {self.node}"
