"""Reading uploaded .xlsx/.csv safely: size cap, type by content, zip-bomb guard, UTF-8/GBK."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024  # an .xlsx that inflates past this is refused (zip bomb)
MAX_RATIO = 200


class TableError(Exception):
    """The whole file is unusable; the message says what to do."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cells)


def column_letter(index: int) -> str:
    """Excel's name of the column at this 0-based position: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 学号 typed as numbers as floats
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def clean_header(value: str) -> str:
    """Headers compare without required-markers, spaces and full-width brackets."""
    text = _cell(value).replace("*", "").replace("＊", "").replace(" ", "").replace("\u3000", "")
    for ch in "（(":
        text = text.split(ch)[0]
    return text


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableError(_("文件已损坏，无法作为 Excel (.xlsx) 读取，请重新保存后上传。")) from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise TableError(
            _("文件不是 Excel 工作簿 (.xlsx)。请使用下载的模板，或另存为 .xlsx / .csv。")
        )
    if total > MAX_UNZIPPED_BYTES or total > MAX_RATIO * max(len(data), 1):
        raise TableError(_("文件解压后过大，已拒绝（可能是压缩炸弹）。请只保留需要导入的数据。"))


def _read_xlsx(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineError, load_workbook

    _check_zip(data)
    try:
        sheet = load_workbook(io.BytesIO(data)).get_sheet_by_index(0)
        return [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    except (CalamineError, ValueError) as exc:
        raise TableError(
            _("无法读取 Excel 文件：%(error)s。请另存为 .xlsx 后重试。") % {"error": exc}
        ) from None


def _decode_csv(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise TableError(_("文件不是文本格式的 CSV。请上传 .xlsx 或 .csv 文件。"))
    for encoding in (
        "utf-8-sig",
        "gb18030",
    ):  # Excel in China saves CSV as GBK (a subset of GB18030)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(_("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码的 CSV。"))


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode_csv(data)
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise TableError(_("CSV 格式错误：%(error)s") % {"error": exc}) from None


def read_table(data: bytes, filename: str = "") -> Table:
    """Parse an upload into headers and numbered rows; empty rows are dropped."""
    if len(data) > settings.LIXIAO_UPLOAD_MAX_BYTES:
        limit = settings.LIXIAO_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise TableError(_("文件超过 %(limit)s MB 上限，请拆分后分批上传。") % {"limit": limit})
    if not data:
        raise TableError(_("上传的文件是空的。"))
    if data.startswith(XLSX_MAGIC):
        grid = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xls")):
        raise TableError(
            _("文件扩展名是 Excel，但内容不是 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）。")
        )
    else:
        grid = _read_csv(data)
    if not grid or not any(grid[0]):
        raise TableError(_("第 1 行应为表头（列名），但文件的第 1 行是空的。请使用下载的模板。"))
    headers = [clean_header(h) for h in grid[0]]
    rows = [(i + 2, row) for i, row in enumerate(grid[1:]) if any(c for c in row)]
    if not rows:
        # Previewing nothing would look like "nothing to change"; say what is wrong instead.
        raise TableError(
            _("文件只有表头（第 1 行），没有数据行。请在表头下方逐行填写要导入的数据后重新上传。")
        )
    return Table(headers=headers, rows=rows)
