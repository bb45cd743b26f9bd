"""The shared import mechanism: safe reading, row-level errors, preview then confirm, safe exports."""

import io
import zipfile

import pytest
import xlsxwriter
from python_calamine import load_workbook

from lixiao.directory.models import College
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError, read_table
from lixiao.tabular.schema import Column, RowError, validate
from lixiao.tabular.writer import export, neutralise, template


def xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_xlsx_numbers_come_back_as_typed_text():
    table = read_table(
        xlsx([["学号*", "结果"], [2022000001, "通过"], [], ["2022000002", "未通过"]]), "a.xlsx"
    )
    assert table.headers == ["学号", "结果"]
    assert table.rows == [(2, ["2022000001", "通过"]), (4, ["2022000002", "未通过"])]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_and_gbk(encoding):
    data = "学号,结果,备注\n2022000001,通过,已还书\n".encode(encoding)
    table = read_table(data, "a.csv")
    assert table.rows == [(2, ["2022000001", "通过", "已还书"])]


def test_refuses_oversized_file(settings):
    settings.LIXIAO_UPLOAD_MAX_BYTES = 100
    with pytest.raises(TableError, match="MB 上限"):
        read_table(b"x" * 101, "a.csv")


def test_refuses_excel_name_without_excel_content():
    with pytest.raises(TableError, match="不是 .xlsx"):
        read_table(b"\xd0\xcf\x11\xe0 old xls", "a.xls")


def test_refuses_zip_that_is_not_a_workbook_and_zip_bombs():
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(TableError, match="不是 Excel"):
        read_table(plain.getvalue(), "a.xlsx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("xl/worksheets/sheet1.xml", "0" * (50 * 1024 * 1024))
    with pytest.raises(TableError, match="压缩炸弹"):
        read_table(bomb.getvalue(), "a.xlsx")


def test_binary_garbage_is_refused_with_a_sentence():
    with pytest.raises(TableError, match="CSV"):
        read_table(b"\x00\x01\x02" * 10, "a.csv")


def _result(raw: str) -> bool:
    if raw not in ("通过", "未通过"):
        raise ValueError("结果只能填“通过”或“未通过”")
    return raw == "通过"


COLUMNS = [
    Column("number", "学号", required=True),
    Column("ok", "结果", required=True, parse=_result),
    Column("note", "备注"),
]


def test_missing_required_column_names_it():
    with pytest.raises(TableError, match="缺少必填列：结果"):
        validate(read_table("学号,备注\n1,x\n".encode(), "a.csv"), COLUMNS)


def test_row_errors_carry_row_column_and_reason():
    out = validate(read_table("学号,结果\n1,通过\n,通过\n3,好\n".encode(), "a.csv"), COLUMNS)
    assert [r for r, _ in out.rows] == [2]
    assert [(e.row, e.column) for e in out.errors] == [(3, "学号"), (4, "结果")]
    assert "通过" in out.errors[1].message and out.errors[1].value == "好"


def test_export_neutralises_formulas_and_template_marks_required():
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)" and neutralise("-1") == "'-1"
    assert neutralise("张三") == "张三" and neutralise(5) == 5
    sheet = load_workbook(
        io.BytesIO(export(["姓名"], [["=1+1"], ["@SUM(A1)"], [7]]))
    ).get_sheet_by_index(0)
    assert sheet.to_python() == [["姓名"], ["'=1+1"], ["'@SUM(A1)"], [7.0]]
    header = load_workbook(io.BytesIO(template(COLUMNS))).get_sheet_by_index(0).to_python()[0]
    assert header == ["学号*", "结果*", "备注"]


@jobs.register
class CollegeNames(jobs.Importer):
    """A tiny importer used to exercise the mechanism end to end."""

    kind = "test.colleges"
    columns = [Column("code", "代码", required=True), Column("name", "名称", required=True)]

    def check(self, validated):
        errors, seen = [], set()
        for row, values in validated.rows:
            if values["code"] in seen:
                errors.append(RowError(row, "代码", "文件中重复"))
            seen.add(values["code"])
        good = [v for r, v in validated.rows if not any(e.row == r for e in errors)]
        return jobs.Plan(counts={"new": len(good)}, errors=errors, rows=good)

    def apply(self, plan):
        for values in plan.rows:
            College.objects.create(code=values["code"], name=values["name"])
        return {"created": len(plan.rows)}


@pytest.mark.django_db
def test_preview_writes_nothing_and_confirm_applies_good_rows(uni_user, tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    data = "代码,名称\nA1,甲学院\nA1,重复学院\nB2,乙学院\n,无代码\n".encode("gbk")
    job = jobs.preview("test.colleges", uni_user, "colleges.csv", data, {})
    assert College.objects.count() == 0
    assert job.preview["counts"] == {"new": 2}
    assert [(e["row"], e["column"]) for e in job.preview["errors"]] == [(3, "代码"), (5, "代码")]
    jobs.confirm(job)
    assert sorted(College.objects.values_list("code", flat=True)) == ["A1", "B2"]
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.APPLIED
    with pytest.raises(TableError, match="已处理过"):
        jobs.confirm(ImportJob.objects.get(pk=job.pk))


@pytest.fixture
def uni_user(db):
    from tests.factories import staff

    return staff("T0001", "测试老师")


def test_column_letters_are_excels():
    from lixiao.tabular.reader import column_letter

    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


@pytest.mark.parametrize(
    "header",
    [
        "学号,结果,学号",  # the same name twice
        "学号*,结果,学号",  # once marked required, once not: still the same column
    ],
)
def test_a_column_given_twice_refuses_the_file_and_names_it(header):
    with pytest.raises(TableError) as refused:
        validate(read_table(f"{header}\n1,通过,2\n".encode(), "a.csv"), COLUMNS)
    message = str(refused.value)
    assert "“学号”列在表头中出现了 2 次" in message
    assert "第 A 列“学号”" in message and "第 C 列“学号”" in message


def test_a_column_and_its_alias_together_are_refused_too():
    columns = [Column("ok", "结果", required=True, aliases=("是否通过",), parse=_result)]
    with pytest.raises(
        TableError, match="“结果”列在表头中出现了 2 次：第 B 列“是否通过”、第 C 列“结果”"
    ):
        validate(read_table("学号,是否通过,结果\n1,通过,未通过\n".encode(), "a.csv"), columns)


def test_a_repeated_column_the_import_does_not_read_is_left_alone():
    # Exports from other systems often carry two 备注 columns; only columns read are ambiguous.
    out = validate(read_table("学号,结果,说明,说明\n1,通过,a,b\n".encode(), "a.csv"), COLUMNS)
    assert [values["number"] for _row, values in out.rows] == ["1"]


@pytest.mark.parametrize(
    "data",
    [
        "学号,结果\n".encode(),
        "学号,结果\n,\n ,\n".encode(),  # rows of empty cells are no data
        xlsx([["学号*", "结果*"]]),
    ],
)
def test_a_header_without_data_rows_says_so(data):
    with pytest.raises(TableError, match="只有表头（第 1 行），没有数据行"):
        read_table(data, "a.xlsx" if data.startswith(b"PK") else "a.csv")


def test_header_refusals_are_in_the_uploaders_language():
    from django.utils import translation

    with translation.override("en"), pytest.raises(TableError) as refused:
        validate(read_table("学号,结果,学号\n1,通过,2\n".encode(), "a.csv"), COLUMNS)
    # The column names are the file's own (Chinese) headers; the sentence is English.
    assert str(refused.value).startswith(
        "The column “学号” appears 2 times in the header: column A “学号”, column C “学号”."
    )
    with translation.override("en"), pytest.raises(TableError, match="only the header"):
        read_table("学号,结果\n".encode(), "a.csv")
