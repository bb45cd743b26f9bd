"""Row-level validation against a column schema: every bad cell reported with row and column."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lixiao.tabular.reader import Table, TableError


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the template's header (Chinese)
    required: bool = False
    aliases: tuple[str, ...] = ()
    parse: Callable[[str], object] | None = None  # raises ValueError("what is wrong")
    example: str = ""
    help: str = ""


@dataclass
class RowError:
    row: int
    column: str
    message: str
    value: str = ""

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "value": self.value,
        }


@dataclass
class Validated:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (row number, cleaned values)
    errors: list[RowError] = field(default_factory=list)


def locate(table: Table, columns: list[Column]) -> dict[str, int]:
    """Where each column is; a missing required column is a file-level error naming it."""
    positions: dict[str, int] = {}
    for col in columns:
        for name in (col.header, *col.aliases):
            if name in table.headers:
                positions[col.key] = table.headers.index(name)
                break
    missing = [c.header for c in columns if c.required and c.key not in positions]
    if missing:
        # The column names are the file's headers (data): listed, never translated.
        names = pgettext("list separator", "、").join(missing)
        raise TableError(
            _("缺少必填列：%(columns)s。请使用下载的模板，表头放在第 1 行。") % {"columns": names}
        )
    return positions


def validate(table: Table, columns: list[Column]) -> Validated:
    positions = locate(table, columns)
    out = Validated()
    for row_number, cells in table.rows:
        cleaned, ok = {}, True
        for col in columns:
            pos = positions.get(col.key)
            raw = cells[pos].strip() if pos is not None and pos < len(cells) else ""
            if not raw:
                if col.required:
                    out.errors.append(
                        RowError(
                            row_number,
                            col.header,
                            _("“%(column)s”不能为空") % {"column": col.header},
                        )
                    )
                    ok = False
                cleaned[col.key] = None if col.parse else ""
                continue
            try:
                cleaned[col.key] = col.parse(raw) if col.parse else raw
            except ValueError as exc:
                out.errors.append(RowError(row_number, col.header, str(exc), raw))
                ok = False
        if ok:
            out.rows.append((row_number, cleaned))
    return out
