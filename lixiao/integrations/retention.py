"""The retention purge's part here: integration-source rows of purged students (欠费 1200 元 …)."""

from lixiao import sqlbulk
from lixiao.clearance import hooks
from lixiao.integrations.models import SourceRow


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    removed = 0
    for part in sqlbulk.chunks(list(announced.student_numbers)):
        rows = SourceRow.objects.filter(student_number__in=part)
        removed += rows.count() if announced.dry_run else rows.delete()[0]
    announced.count("source_rows", removed)
