"""Browser: the office imports a 100-student roster (one bad row fixed), sees the dashboard; a counselor finds them."""

import io
from pathlib import Path

import pytest
from python_calamine import load_workbook

from lixiao.clearance import queries, scope
from lixiao.clearance.models import Form
from tests import factories as f
from tests.console.importing import roster_file, roster_row
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _roster(bad_row: int | None) -> bytes:
    rows = []
    for i in range(100):
        row = roster_row(
            f"20269{i:05d}",
            f"名单学生{i:03d}",
            "CS" if i % 2 == 0 else "文学院",
            300 + i,
            political="中共党员" if i % 5 == 0 else "共青团员",
            counselor=("T1001", "张老师") if i % 2 == 0 else ("", ""),
        )
        if i == bad_row:
            good = row[2]
            row[2] = good[:17] + ("1" if good[17] != "1" else "2")  # wrong GB 11643 check digit
        rows.append(row)
    return roster_file(rows)


def _upload(page, data: bytes) -> None:
    page.set_input_files(
        "#id_file", files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": data}]
    )
    with page.expect_navigation():
        page.click("#roster-upload button")


def test_office_imports_a_roster_and_a_counselor_finds_the_students(
    uni, live_server, page, screenshot
):
    batch = f.batch(uni.category, name="2026届浏览器测试批次")
    f.grant(batch, "院系离校", uni.counselor_cs, scope="college", college=uni.cs)
    login(page, live_server, uni.office.username, f.PASSWORD)
    page.goto(f"{live_server.url}/console/batches/{batch.id}/roster/")
    assert "名单管理" in page.locator("h1").inner_text()

    with page.expect_download() as info:
        page.click("#roster-template")
    path = Path(info.value.path())
    assert info.value.suggested_filename.endswith(".xlsx")
    header = load_workbook(io.BytesIO(path.read_bytes())).get_sheet_by_index(0).to_python()[0]
    assert header[0] == "学号*" and "辅导员工号" in header
    screenshot("roster-page")

    _upload(page, _roster(bad_row=41))  # Excel row 43
    errors = page.locator("#import-errors")
    assert "第 43 行" in errors.inner_text() and "校验位不正确" in errors.inner_text()
    assert page.locator("#roster-confirm button").count() == 0
    screenshot("preview-with-error")
    assert not Form.objects.filter(batch=batch).exists()

    page.goto(f"{live_server.url}/console/batches/{batch.id}/roster/")
    _upload(page, _roster(bad_row=None))
    assert page.locator("#import-errors").count() == 0
    assert "确认导入 100 名学生" in page.locator("#roster-confirm").inner_text()
    screenshot("preview-clean")
    with page.expect_navigation():
        page.click("#roster-confirm button")

    assert page.url.endswith(f"/console/batches/{batch.id}/supervision/")
    assert "/ 100 人办结" in page.locator("#overall-numbers").inner_text()
    assert "计算机与信息科学学院" in page.locator("#college-progress").inner_text()
    screenshot("dashboard")

    # The counselor's college grant reaches exactly the 50 CS students, through the desk's scoped query.
    found = queries.search(scope.reach(uni.counselor_cs, batch.id), queries.Filters(q="20269"))
    assert found.count() == 50 and {form.college_id for form in found} == {uni.cs.id}
    assert Form.objects.filter(batch=batch, counselor=uni.counselor_cs).count() == 50
