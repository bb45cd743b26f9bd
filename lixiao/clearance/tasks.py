"""Background tasks of the core (django-tasks): the archive export of an archived batch."""

from django_tasks import task

from lixiao.clearance import archive


@task()
def build_archive(batch_id: int) -> dict:
    """Build the batch's queued archive file (idempotent: a repeated task does nothing)."""
    return archive.build(batch_id)
