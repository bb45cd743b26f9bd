"""Writing .xlsx: templates with required columns marked, and exports safe from formula injection."""

import io
from collections.abc import Iterable, Sequence

import xlsxwriter

from lixiao.tabular.schema import Column

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell that Excel would run as a formula gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def template(
    columns: Sequence[Column], sheet: str = "导入模板", notes: Sequence[str] = ()
) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    required = book.add_format(
        {"bold": True, "font_color": "#b02a37", "bg_color": "#fde2e1", "border": 1}
    )
    optional = book.add_format({"bold": True, "bg_color": "#e9ecef", "border": 1})
    text = book.add_format({"num_format": "@"})
    for i, col in enumerate(columns):
        ws.write_string(
            0,
            i,
            f"{col.header}*" if col.required else col.header,
            required if col.required else optional,
        )
        ws.write_string(1, i, col.example, text)
        ws.set_column(i, i, max(12, len(col.header) * 3), text)
        if col.help:
            ws.write_comment(0, i, col.help)
    ws.freeze_panes(1, 0)
    if notes:
        info = book.add_worksheet("说明")
        info.set_column(0, 0, 100)
        for i, line in enumerate(["带 * 的列为必填；第 2 行为示例，导入前请删除。", *notes]):
            info.write_string(i, 0, line)
    book.close()
    return buffer.getvalue()


def export(headers: Sequence[str], rows: Iterable[Sequence], sheet: str = "导出") -> bytes:
    """Stream rows into an .xlsx (constant memory), every text cell neutralised."""
    return workbook([(sheet, headers, rows)])


def workbook(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """Several sheets (name, headers, rows) in one .xlsx, written as `export` writes one."""
    buffer = io.BytesIO()
    # constant_memory streams rows through a temp file instead of holding the sheet in memory.
    book = xlsxwriter.Workbook(
        buffer, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    for sheet, headers, rows in sheets:
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, list(headers), bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                value = neutralise(value)
                if value is None:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()
