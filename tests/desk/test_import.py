"""Importing results: template, preview with every bad row and its reason, confirm in one go."""

import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import load_workbook

from lixiao.clearance.models import Event, Record, State
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.conftest import record
from tests.desk.conftest import desk_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def upload(client, batch, step, name, data):
    return client.post(
        desk_url(batch, "import/"), {"step": step.id, "file": SimpleUploadedFile(name, data)}
    )


def test_template_has_the_three_columns(uni, as_user):
    response = as_user(uni.dorm).get(desk_url(uni.batch, "import/template.xlsx"))
    header = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()[0]
    assert header == ["学号*", "结果*", "备注"]


def test_preview_lists_counts_and_every_bad_row_then_confirm_applies(uni, as_user):
    f.pass_prerequisites(uni.form_cs2, uni.office)  # 2022000005: 学生公寓 already passed
    f.student("2099000001", "未入名单", uni.cs)
    c = as_user(uni.counselor_cs)
    final = record(uni.form, "院系离校").step
    # The counselor imports 院系离校: the gate refuses 2022000001 (prerequisites pending).
    data = xlsx(
        [
            ["学号*", "结果*", "备注"],
            ["2022000005", "通过", "材料齐全"],
            ["2022000001", "通过", ""],
            ["2022000003", "通过", ""],
            ["2099000001", "通过", ""],
            ["9999999999", "通过", ""],
            ["2022000005", "通过", ""],
            ["2022000005x", "好", ""],
        ]
    )
    response = upload(c, uni.batch, final, "结果.xlsx", data)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == desk_url(uni.batch, f"import/{job.id}/")
    page = c.get(response.url)
    assert page.context["counts"] == {"pass": 1, "revoke": 0, "unchanged": 0}
    reasons = {e["row"]: e["message"] for e in page.context["errors"]}
    assert "尚未通过" in reasons[3]
    assert reasons[4] == "该学生不在您的办理范围内"
    assert reasons[5] == "该学生不在本批次名单中"
    assert reasons[6] == "系统中没有该学号"
    assert reasons[7] == "与第 2 行重复"
    assert "通过" in reasons[8]
    assert record(uni.form_cs2, "院系离校").state == State.PENDING  # nothing before confirm
    c.post(desk_url(uni.batch, f"import/{job.id}/confirm/"))
    assert record(uni.form_cs2, "院系离校").state == State.PASSED
    assert record(uni.form, "院系离校").state == State.PENDING
    event = Event.objects.get(
        record=record(uni.form_cs2, "院系离校"), action="clearance.record.passed"
    )
    assert event.source == "import" and event.note == "材料齐全" and event.group == job.group
    again = c.post(desk_url(uni.batch, f"import/{job.id}/confirm/"), follow=True)
    assert "已处理过" in again.content.decode()


def test_gbk_csv_revokes_and_unchanged(uni, as_user):
    c = as_user(uni.dorm)
    step = record(uni.form, "学生公寓").step
    c.post(desk_url(uni.batch, "bulk/"), {"step": step.id, "action": "pass", "form": [uni.form.id]})
    data = (
        "学号,结果,备注\n2022000001,未通过,钥匙未还\n2022000003,未通过,\n2022000005,通过,\n".encode(
            "gbk"
        )
    )
    job_url = upload(c, uni.batch, step, "r.csv", data).url
    assert c.get(job_url).context["counts"] == {"pass": 1, "revoke": 1, "unchanged": 1}
    c.post(job_url + "confirm/")
    assert [record(x, "学生公寓").state for x in (uni.form, uni.form_lit, uni.form_cs2)] == [
        State.PENDING,
        State.PENDING,
        State.PASSED,
    ]
    assert record(uni.form, "学生公寓").note == "钥匙未还"


def test_malformed_and_oversized_files_are_refused_with_a_sentence(uni, as_user, settings):
    c = as_user(uni.dorm)
    step = record(uni.form, "学生公寓").step
    page = c.post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("a.xlsx", b"not excel")},
        follow=True,
    )
    assert "不是 .xlsx" in page.content.decode()
    page = c.post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("a.csv", "姓名\n张三\n".encode())},
        follow=True,
    )
    assert "缺少必填列" in page.content.decode()
    settings.LIXIAO_UPLOAD_MAX_BYTES = 10
    page = c.post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("a.csv", b"x" * 11)},
        follow=True,
    )
    assert "MB 上限" in page.content.decode()
    assert not ImportJob.objects.exists()
    assert not Record.objects.filter(step=step, state=State.PASSED).exists()


def test_another_persons_job_is_404(uni, as_user):
    step = record(uni.form, "学生公寓").step
    url = upload(
        as_user(uni.dorm), uni.batch, step, "r.csv", "学号,结果\n2022000001,通过\n".encode()
    ).url
    f.grant(uni.batch, "学生公寓", uni.outsider)
    other = as_user(uni.outsider)
    assert other.get(url).status_code == 404
    assert other.post(url + "confirm/").status_code == 404
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_header_problems_refuse_the_whole_file_naming_the_column(uni, as_user):
    c = as_user(uni.dorm)
    step = record(uni.form, "学生公寓").step
    twice = xlsx([["学号*", "结果*", "结果"], ["2022000001", "通过", "未通过"]])
    page = c.post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("结果.xlsx", twice)},
        follow=True,
    ).content.decode()
    assert "“结果”列在表头中出现了 2 次：第 B 列“结果”、第 C 列“结果”" in page
    assert "请删除或改名多余的列后重新上传" in page
    header_only = c.post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("r.csv", "学号,结果,备注\n".encode())},
        follow=True,
    ).content.decode()
    assert "文件只有表头（第 1 行），没有数据行" in header_only
    assert not ImportJob.objects.exists()
    assert record(uni.form, "学生公寓").state == State.PENDING
