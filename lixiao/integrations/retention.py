"""The retention purge's part here: integration-source rows of purged students (欠费 1200 元 …)."""

from lixiao.clearance import hooks
from lixiao.integrations.models import SourceRow


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    rows = SourceRow.objects.filter(student_number__in=announced.students.values("student_number"))
    announced.count("source_rows", rows.count() if announced.dry_run else rows.delete()[0])
