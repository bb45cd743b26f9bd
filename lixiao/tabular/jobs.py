"""The one import mechanism: parse → validate each row → preview → confirm in one transaction.

Each kind of import (roster, desk results, source rows, master data) registers an Importer
that knows its columns, what a preview shows and how to apply; this module does the rest.
"""

from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError, read_table
from lixiao.tabular.schema import Column, RowError, Validated, validate

MAX_ERRORS_SHOWN = 1000
_REGISTRY: dict[str, type["Importer"]] = {}


@dataclass
class Plan:
    """What an import would do: counts by kind of change, bad rows, and the good rows."""

    counts: dict
    errors: list[RowError]
    rows: list


class Importer:
    """Subclass per kind; `check` turns validated rows into a Plan (more errors allowed), `apply` writes it."""

    kind = ""
    columns: list[Column] = []

    def __init__(self, job: ImportJob):
        self.job = job
        self.context = job.context

    def check(self, validated: Validated) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan) -> dict:
        raise NotImplementedError


def register(cls: type[Importer]) -> type[Importer]:
    _REGISTRY[cls.kind] = cls
    return cls


def importer_for(job: ImportJob) -> Importer:
    return _REGISTRY[job.kind](job)


def _plan(job: ImportJob) -> Plan:
    importer = importer_for(job)
    with job.file.open("rb") as fh:
        table = read_table(fh.read(), job.filename)
    validated = validate(table, importer.columns)
    plan = importer.check(validated)
    plan.errors = sorted([*validated.errors, *plan.errors], key=lambda e: e.row)
    return plan


def preview(kind: str, user, upload_name: str, data: bytes, context: dict) -> ImportJob:
    """Store the upload and compute what it would do; nothing else is written. Raises TableError."""
    read_table(data, upload_name)  # refuse an unusable file before storing it
    job = ImportJob(kind=kind, created_by=user, context=context, filename=upload_name[:255])
    job.file.save(upload_name[-100:] or "upload", ContentFile(data), save=False)
    job.save()
    try:
        plan = _plan(job)
    except TableError:
        job.file.delete(save=False)
        job.delete()
        raise
    job.preview = {
        "counts": plan.counts,
        "errors": [e.as_dict() for e in plan.errors[:MAX_ERRORS_SHOWN]],
        "error_count": len(plan.errors),
        "good_rows": len(plan.rows),
    }
    job.save(update_fields=["preview"])
    return job


def confirm(job: ImportJob) -> ImportJob:
    """Apply the good rows in one transaction, re-checked against the data as it is now."""
    if job.status != ImportJob.Status.PREVIEWED:
        raise TableError(_("该导入已处理过，请重新上传文件。"))
    plan = _plan(job)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.PREVIEWED:
            raise TableError(_("该导入已处理过，请重新上传文件。"))
        result = importer_for(job).apply(plan)
        job.status = ImportJob.Status.APPLIED
        job.result = {**result, "skipped_errors": len(plan.errors)}
        job.progress = 100
        job.save(update_fields=["status", "result", "progress"])
    return job
