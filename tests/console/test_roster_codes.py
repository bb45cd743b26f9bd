"""Roster import with national code lists: GB/T 4762 political status, GB/T 2261.1 gender."""

import io

import pytest
import xlsxwriter
from django.test import Client
from django.urls import reverse
from python_calamine import load_workbook

from lixiao.clearance.models import Record, State
from lixiao.console import importers
from lixiao.directory.models import Student
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.console.importing import ROSTER_HEADER, roster_row, upload

pytestmark = pytest.mark.django_db


def workbook(rows) -> bytes:
    """An export as student information systems write it: codes in number cells too."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)  # an int stays a number cell: Excel shows 01 as 1
    book.close()
    return buffer.getvalue()


def row(number, seed, political, gender) -> list:
    cells = roster_row(number, f"学生{seed}", "CS", seed, political=political)
    cells[3] = gender
    return cells


def preview(client, batch, rows) -> tuple[ImportJob, str]:
    page = client.post(
        reverse("console:roster", args=[batch.id]),
        {"file": upload(workbook([ROSTER_HEADER, *rows]), "名单.xlsx")},
        follow=True,
    ).content.decode()
    job = ImportJob.objects.filter(kind=importers.RosterImporter.kind).latest("id")
    return job, page


def test_names_full_names_and_codes_are_stored_as_the_name(office_client, uni):
    rows = [
        row("2026100001", 101, "05", "2"),  # codes as text cells
        row("2026100002", 102, 1, 1),  # codes typed into number cells
        row("2026100003", 103, "中国共产党预备党员", "女性"),  # the standard's full names
        row("2026100004", 104, "无党派人士", "9"),  # a common variant; gender not stated
        row("2026100005", 105, "13", "0"),
        row("2026100006", 106, "九三学社社员", "男"),
    ]
    job, page = preview(office_client, uni.batch, rows)
    assert job.preview["error_count"] == 0, job.preview["errors"]
    assert "确认导入 6 名学生" in page
    office_client.post(reverse("console:roster_confirm", args=[uni.batch.id, job.id]))
    stored = dict(
        Student.objects.filter(student_number__startswith="2026100").values_list(
            "student_number", "political_status"
        )
    )
    assert stored == {
        "2026100001": "民盟盟员",
        "2026100002": "中共党员",
        "2026100003": "中共预备党员",
        "2026100004": "无党派民主人士",
        "2026100005": "群众",
        "2026100006": "九三学社社员",
    }
    genders = Student.objects.filter(student_number__startswith="2026100").order_by(
        "student_number"
    )
    assert list(genders.values_list("gender", flat=True)) == ["女", "男", "女", "", "", "男"]
    # The party step (中共党员 or 中共预备党员) applies to codes 01 and 02 only.
    party = dict(
        Record.objects.filter(
            step__title="组织关系转移", form__student__student_number__startswith="2026100"
        ).values_list("form__student__student_number", "state")
    )
    assert [n for n, state in sorted(party.items()) if state == State.PENDING] == [
        "2026100002",
        "2026100003",
    ]
    # The desk shows the name, not the code the file gave.
    counselor = Client()
    counselor.force_login(uni.counselor_cs)
    form = Student.objects.get(student_number="2026100001").forms.get()
    detail = counselor.get(reverse("desk:form", args=[uni.batch.id, form.id])).content.decode()
    assert "民盟盟员" in detail


def test_a_word_that_is_not_a_status_is_refused_saying_what_to_write(office_client, uni):
    rows = [
        row("2026100011", 111, "民主党派", "男"),
        row("2026100012", 112, "党员", "男"),
        row("2026100013", 113, "14", "男"),
        row("2026100014", 114, "群众", "M"),
    ]
    job, page = preview(office_client, uni.batch, rows)
    errors = {e["row"]: (e["column"], e["message"]) for e in job.preview["errors"]}
    assert errors[2] == (
        "政治面貌",
        "“民主党派”不是具体的政治面貌：请填写所属党派的名称或代码（04–11），如 民盟盟员 或 05",
    )
    generic = "政治面貌应为 GB/T 4762 的名称或代码（01 中共党员 … 13 群众），如 共青团员 或 03"
    assert errors[3][0] == errors[4][0] == "政治面貌"
    assert errors[3][1].startswith(generic) and errors[4][1].startswith(generic)
    assert errors[5] == (
        "性别",
        "性别应为“男”“女”，或 GB/T 2261.1 代码 1（男）、2（女）、0（未知）、9（未说明）",
    )
    assert "不是具体的政治面貌" in page and "全部取值见模板的“说明”工作表" in page
    assert "确认导入" not in page  # blocking errors: fix the file first
    assert not Student.objects.filter(student_number__startswith="2026100").exists()


def test_the_template_and_the_page_list_what_is_accepted(office_client, uni):
    response = office_client.get(reverse("console:roster_template"))
    book = load_workbook(io.BytesIO(response.content))
    notes = "\n".join(r[0] for r in book.get_sheet_by_name("说明").to_python())
    codes = (
        "01 中共党员、02 中共预备党员、03 共青团员、04 民革会员、05 民盟盟员、06 民建会员、"
        "07 民进会员、08 农工党党员、09 致公党党员、10 九三学社社员、11 台盟盟员、12 无党派民主人士、"
        "13 群众"
    )
    assert codes in notes
    assert "代码 1（男）、2（女）" in notes and "9（未说明的性别）按未填写保存" in notes
    page = office_client.get(reverse("console:roster", args=[uni.batch.id])).content.decode()
    assert "<td>05</td><td>民盟盟员</td><td>中国民主同盟盟员</td>" in page
    assert "GB/T 4762 名称或代码，如 中共党员 或 01" in page


def test_a_student_stored_as_the_old_catch_all_keeps_it_and_the_group_reaches_them(uni):
    """Before GB/T 4762 a roster could only say 民主党派: kept as it is (which party is not
    known), and a condition on the 民主党派 group still applies to that student."""
    from lixiao.clearance import rules

    old = f.student("2020000009", "老数据", uni.cs, political="民主党派", student_type="硕士研究生")
    condition = [{"attr": "political_status", "op": "in", "values": ["民主党派"]}]
    assert rules.applies(condition, old.attributes())
    assert not rules.applies(
        [{"attr": "political_status", "op": "in", "values": ["民盟盟员"]}], old.attributes()
    )
