"""The desk in Chromium: the final gate refuses, then every department clears 2022000001 its own way."""

import io

import pytest
import xlsxwriter

from lixiao.clearance.models import Form, State
from tests import factories as f
from tests.conftest import record
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def results_xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate([["学号*", "结果*", "备注"], *rows]):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def open_student(page, live_server, batch, number):
    page.goto(f"{live_server.url}/desk/")
    page.get_by_role("link", name="进入办理").click()
    page.fill("#id_q", number)
    with page.expect_navigation():
        page.click("#search-form button")
    page.get_by_role("link", name=number).click()
    page.wait_for_url(f"**/desk/b/{batch.id}/f/**")


def act(page, rec, button):
    page.locator(f"#record-{rec.id}").get_by_role("button", name=button).click()


def bulk_pass(page, live_server, batch, step_title, form):
    page.goto(f"{live_server.url}/desk/b/{batch.id}/?q=2022000001")
    page.check(f"#bulk-form input[name=form][value='{form.id}']")
    page.select_option("#bulk-step", label=step_title)
    with page.expect_navigation():
        page.click("#bulk-form button[value=pass]")
    assert "已办理通过：1 人" in page.inner_text("#bulk-summary")


def student_sees_green(browser, live_server, passed_titles):
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        login(page, live_server, "2022000001", f.PASSWORD)
        for title in passed_titles:
            assert page.get_by_label(f"{title}：已办理").first.is_visible(), title
    finally:
        context.close()


def test_desk_clears_a_party_member_step_by_step(
    uni, live_server, browser, page, screenshot, tmp_path, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    form = uni.form
    final = record(form, "院系离校")

    # 1. The counselor finds the party member and is refused 院系离校, with the reason on screen.
    login(page, live_server, "T1001", f.PASSWORD)
    open_student(page, live_server, uni.batch, "2022000001")
    act(page, final, "办理通过")
    alert = page.locator(f"#record-{final.id} [role=alert]")
    alert.wait_for()
    assert "尚未通过" in alert.inner_text() and "组织关系转移" in alert.inner_text()
    screenshot("final-refused")
    page.context.clear_cookies()

    # 2. The dormitory passes its step by importing an .xlsx.
    login(page, live_server, "D4001", f.PASSWORD)
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/import/")
    page.select_option("#import-step", label="学生公寓")
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "公寓.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": results_xlsx([["2022000001", "通过", "钥匙已交"]]),
            }
        ],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="上传并预览").click()
    assert "将办理通过：1 人" in page.inner_text("#import-counts")
    with page.expect_navigation():
        page.get_by_role("button", name="确认导入（1 行）").click()
    assert "变更 1 人" in page.inner_text("main")
    assert record(form, "学生公寓").state == State.PASSED
    student_sees_green(browser, live_server, ["学生公寓"])
    page.context.clear_cookies()

    # 3. Library and finance decide their automatic steps by bulk selection.
    for username, title in (("L2001", "图书馆"), ("F3001", "财务处")):
        login(page, live_server, username, f.PASSWORD)
        bulk_pass(page, live_server, uni.batch, title, form)
        page.context.clear_cookies()
    student_sees_green(browser, live_server, ["学生公寓", "图书馆", "财务处"])

    # 4. The office passes a department step still pending (the optional 校友会登记).
    login(page, live_server, "A0001", f.PASSWORD)
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/f/{form.id}/")
    alumni = record(form, "校友会登记")
    act(page, alumni, "办理通过")
    page.locator(f"#record-{alumni.id}").get_by_label("校友会登记：已办理").wait_for()
    page.context.clear_cookies()

    # 5. The counselor passes 组织关系转移, then 院系离校; the page updates in place.
    login(page, live_server, "T1001", f.PASSWORD)
    open_student(page, live_server, uni.batch, "2022000001")
    party = record(form, "组织关系转移")
    act(page, party, "办理通过")
    page.locator(f"#record-{party.id}").get_by_label("组织关系转移：已办理").wait_for()
    act(page, final, "办理通过")
    page.locator(f"#record-{final.id}").get_by_label("院系离校：已办理").wait_for()
    assert "已办结" in page.inner_text("#desk-form")
    screenshot("cleared")
    assert Form.objects.get(pk=form.pk).completed_at is not None
    student_sees_green(
        browser,
        live_server,
        ["学生公寓", "图书馆", "财务处", "校友会登记", "组织关系转移", "院系离校"],
    )
