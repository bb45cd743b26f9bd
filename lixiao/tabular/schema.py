"""Row-level validation against a column schema: every bad cell reported with row and column."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lixiao.tabular.reader import Table, TableError, column_letter


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


def _refuse_repeated(table: Table, col: Column, found: list[int]) -> None:
    """A column the import reads, given twice: which of the two is meant cannot be guessed."""
    places = pgettext("list separator", "、").join(
        _("第 %(letter)s 列“%(header)s”") % {"letter": column_letter(i), "header": table.headers[i]}
        for i in found
    )
    raise TableError(
        _(
            "“%(column)s”列在表头中出现了 %(count)s 次：%(places)s。"
            "每一列只能出现一次，请删除或改名多余的列后重新上传。"
        )
        % {"column": col.header, "count": len(found), "places": places}
    )


def locate(table: Table, columns: list[Column]) -> dict[str, int]:
    """Where each column is; a missing required column or one given twice refuses the file.

    Headers the import does not read may repeat (an export from another system often has two
    备注 columns): only a column whose value would otherwise silently come from one of two
    places is refused, whether it is named twice or by its name and one of its aliases.
    """
    positions: dict[str, int] = {}
    for col in columns:
        names = (col.header, *col.aliases)
        found = [i for i, header in enumerate(table.headers) if header in names]
        if len(found) > 1:
            _refuse_repeated(table, col, found)
        if found:
            positions[col.key] = found[0]
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
