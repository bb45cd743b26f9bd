"""Helpers shared by the office's importers: cell parsers, places by code or name, staff accounts."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lixiao import sqlbulk
from lixiao.directory import codes, idnumbers
from lixiao.directory.models import (
    Staff,
    StudentType,
    User,
)
from lixiao.tabular.models import ImportJob
from lixiao.tabular.schema import RowError

# Enum's .values builds a new list on every call: at 50,000 rows that cost most of a second.
STUDENT_TYPES = frozenset(StudentType.values)
EXAMPLE_ID = "11010119900307001" + idnumbers.check_digit("11010119900307001")
MAX_WARNINGS = 1000


# ---------------------------------------------------------------------------------------------
# cell parsers shared by every importer (raise ValueError with the sentence shown on the row)
#
# Row messages are written in the uploader's language when the preview is computed (they are
# stored on the job for that person's preview page); cell values and column headers never are.


def values_list(values) -> str:
    """Allowed values in a message: the values themselves, separated as the language lists."""
    return pgettext("list separator", "、").join(values)


def parse_id_number(raw: str) -> str:
    problem = idnumbers.problem(raw)
    if problem:
        raise ValueError(problem)
    return idnumbers.normalise(raw)


def parse_student_type(raw: str) -> str:
    if raw not in STUDENT_TYPES:
        raise ValueError(
            _("学生类别应为：%(values)s") % {"values": values_list(StudentType.values)}
        )
    return raw


def parse_gender(raw: str) -> str:
    """男 or 女, also as GB/T 2261.1 codes; 0 and 9 (unknown, not stated) leave it blank."""
    value = codes.gender(raw)
    if value is None:
        raise ValueError(
            _("性别应为“男”“女”，或 GB/T 2261.1 代码 1（男）、2（女）、0（未知）、9（未说明）")
        )
    return value


def parse_political_status(raw: str) -> str:
    """A GB/T 4762 name, full name or code (01–13), stored as the name.

    Applicability conditions compare these words: a spelling outside the list would silently
    skip a step, so it is refused with what to write instead.
    """
    value = codes.political_status(raw)
    if value is not None:
        return value
    if raw.strip() == codes.DEMOCRATIC_PARTIES:
        raise ValueError(
            _(
                "“民主党派”不是具体的政治面貌：请填写所属党派的名称或代码（04–11），如 民盟盟员 或 05"
            )
        )
    raise ValueError(
        _(
            "政治面貌应为 GB/T 4762 的名称或代码（01 中共党员 … 13 群众），如 共青团员 或 03；可填的全部取值见模板的“说明”工作表"
        )
    )


class PlaceIndex:
    """Colleges or departments found by code or by name, loaded once per import."""

    def __init__(self, model):
        self.model = model
        self.by_key: dict[str, object] = {}
        for obj in model.objects.all():
            self.by_key[obj.code] = obj
            self.by_key[obj.name] = obj

    def find(self, value: str):
        return self.by_key.get((value or "").strip())


def staff_by_number(numbers) -> dict[str, tuple[int, int]]:
    """职工号 → (user id, staff id) of existing staff."""
    found = {}
    for part in sqlbulk.chunks(sorted(set(numbers))):
        for number, user_id, staff_id in Staff.objects.filter(staff_number__in=part).values_list(
            "staff_number", "user_id", "id"
        ):
            found[number] = (user_id, staff_id)
    return found


def usernames_taken(numbers) -> set[str]:
    taken = set()
    for part in sqlbulk.chunks(sorted(set(numbers))):
        taken.update(User.objects.filter(username__in=part).values_list("username", flat=True))
    return taken


def progress(job: ImportJob, percent: int) -> None:
    # Written outside the apply transaction (autocommit), so the polling page sees it.
    if job.pk and job.context.get("queued"):
        ImportJob.objects.filter(pk=job.pk).update(progress=percent)


def good_rows(errors: list[RowError], rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    bad = {e.row for e in errors}
    return [(r, v) for r, v in rows if r not in bad]
