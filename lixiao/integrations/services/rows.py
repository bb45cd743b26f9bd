"""Storing a source's rows: parse, validate, upsert or replace, and count what changed.

Push, upload and pull all end here, so the three ways in count and time rows the same way.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from lixiao import sqlbulk
from lixiao.directory.models import Student
from lixiao.integrations.models import IntegrationSource, SourceRow

MAX_ROWS = 10_000
_TRUE = {"true", "1", "是", "通过", "已结清", "已通过", "y", "yes"}
_FALSE = {"false", "0", "否", "未通过", "未结清", "不通过", "n", "no"}


class CellError(ValueError):
    """A bad value in a row that a page may show (the upload preview) as well as a pushed or
    pulled row. str() is always the Chinese text — it goes back to calling systems and into the
    stored sync log; `translated()` renders it in the request's language for a page.
    """

    def __init__(self, template: str, **params):
        self.template, self.params = template, params
        super().__init__(template % params if params else template)

    def translated(self) -> str:
        text = gettext(self.template)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Row:
    student_number: str
    cleared: bool
    reason: str = ""
    amount: Decimal | None = None


@dataclass
class Stored:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    unmatched: int = 0
    changed_numbers: list[str] = field(default_factory=list)  # students whose data changed

    def as_dict(self) -> dict:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "unmatched": self.unmatched,
        }


def parse_cleared(value, strict: bool = False) -> bool:
    """true/false; for files and pulls also 是/否, 通过/未通过, 1/0. Raises ValueError."""
    if isinstance(value, bool):
        return value
    if not strict and isinstance(value, int) and value in (0, 1):
        return bool(value)
    if not strict and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if strict:
        raise ValueError("cleared 须为 true 或 false")
    raise CellError(gettext_noop("“是否结清”只能填 是/否、通过/未通过、true/false 或 1/0"))


def parse_amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('amount 须为数字或数字字符串，例如 "1200.00"')
    try:
        amount = Decimal(str(value).replace(",", "").strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CellError(gettext_noop("金额“%(value)s”不是数字"), value=value) from None
    if abs(amount) >= Decimal("1e10"):
        raise CellError(gettext_noop("金额“%(value)s”过大"), value=value)
    return amount


def parse_row(data, strict: bool = True) -> Row:
    """One pushed or pulled row (a dict). Raises ValueError with a reason a person can act on."""
    if not isinstance(data, dict):
        raise ValueError("每一行须为 JSON 对象")
    number = data.get("student_number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number.strip():
        raise ValueError("缺少 student_number（学号）")
    number = number.strip()
    if len(number) > 32:
        raise ValueError("student_number 超过 32 个字符")
    if "cleared" not in data:
        raise ValueError("缺少 cleared（是否结清）")
    cleared = parse_cleared(data["cleared"], strict=strict)
    reason = data.get("reason")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):  # also {}, [], 0, false: only text (or nothing) is a reason
        raise ValueError("reason 须为文字")
    if len(reason) > 255:
        raise ValueError("reason 超过 255 个字符")
    return Row(number, cleared, reason.strip(), parse_amount(data.get("amount")))


def check_rows(payload: list) -> tuple[list[Row], list[dict]]:
    """Parse every row; each error names the row so the sender can fix exactly that row.

    `row` counts from 1 as people do (the reasons say 第 N 行 with the same number); `index` is
    the row's 0-based position in the array, for programs.
    """
    rows, errors, seen = [], [], {}
    for index, data in enumerate(payload):
        number = index + 1
        try:
            row = parse_row(data)
        except ValueError as exc:
            errors.append({"row": number, "index": index, "reason": str(exc)})
            continue
        if row.student_number in seen:
            errors.append(
                {
                    "row": number,
                    "index": index,
                    "reason": f"学号 {row.student_number} 与第 {seen[row.student_number]} 行重复",
                }
            )
            continue
        seen[row.student_number] = number
        rows.append(row)
    return rows, errors


def store(source: IntegrationSource, rows: list[Row], mode: str = "upsert") -> Stored:
    """Write rows in one transaction. `replace` also deletes the rows the sender left out.

    Unchanged rows keep their `updated_at` but get a new `checked_at`: the source confirmed
    them now, which is what freshness shows.
    """
    out = Stored()
    now = timezone.now()
    with transaction.atomic():
        # Serialise writers of one source: two pushes cannot both insert the same 学号.
        IntegrationSource.objects.select_for_update().filter(pk=source.pk).exists()
        existing = {
            number: (rid, cleared, reason, amount)
            for rid, number, cleared, reason, amount in SourceRow.objects.filter(
                source=source
            ).values_list("id", "student_number", "cleared", "reason", "amount")
        }
        inserts, updates, unchanged_ids = [], [], []
        for row in rows:
            old = existing.get(row.student_number)
            if old is None:
                inserts.append(row)
            elif (old[1], old[2], old[3]) != (row.cleared, row.reason, row.amount):
                updates.append((old[0], row))
            else:
                unchanged_ids.append(old[0])
        now_db = sqlbulk.adapt(now)
        if inserts:
            sqlbulk.insert(
                SourceRow._meta.db_table,
                (
                    "source_id",
                    "student_number",
                    "cleared",
                    "reason",
                    "amount",
                    "updated_at",
                    "checked_at",
                ),
                [
                    (
                        source.pk,
                        r.student_number,
                        r.cleared,
                        r.reason,
                        _amount(r.amount),
                        now_db,
                        now_db,
                    )
                    for r in inserts
                ],
            )
        if updates:
            qn = connection.ops.quote_name
            sql = (
                f"UPDATE {qn(SourceRow._meta.db_table)} SET cleared = %s, reason = %s, amount = %s, "
                f"updated_at = %s, checked_at = %s WHERE id = %s"
            )
            with connection.cursor() as cursor:
                cursor.executemany(
                    sql,
                    [
                        (r.cleared, r.reason, _amount(r.amount), now_db, now_db, rid)
                        for rid, r in updates
                    ],
                )
        if unchanged_ids:
            sqlbulk.update_where_in(SourceRow._meta.db_table, {"checked_at": now}, unchanged_ids)
        deleted_numbers = []
        if mode == "replace":
            sent = {r.student_number for r in rows}
            gone = [(number, old[0]) for number, old in existing.items() if number not in sent]
            deleted_numbers = [number for number, _ in gone]
            for part in sqlbulk.chunks([rid for _, rid in gone]):
                SourceRow.objects.filter(id__in=part).delete()
        IntegrationSource.objects.filter(pk=source.pk).update(data_at=now)
    source.data_at = now
    out.inserted, out.updated, out.unchanged, out.deleted = (
        len(inserts),
        len(updates),
        len(unchanged_ids),
        len(deleted_numbers),
    )
    out.changed_numbers = (
        [r.student_number for r in inserts]
        + [r.student_number for _, r in updates]
        + deleted_numbers
    )
    out.unmatched = len(rows) - count_known([r.student_number for r in rows])
    return out


def count_known(numbers: list[str]) -> int:
    """How many of these 学号 belong to a student on the roster."""
    known = 0
    for part in sqlbulk.chunks(numbers):
        known += Student.objects.filter(student_number__in=part).count()
    return known


def _amount(value: Decimal | None):
    # SQLite's adapter and PostgreSQL's COPY both take the decimal's text unchanged.
    return None if value is None else str(value)
