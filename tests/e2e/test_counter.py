"""Counter mode in Chromium: the student shows the 离校码 on a phone, the desk scanner types it, one tap passes."""

import pytest

from lixiao.clearance import departure_code
from lixiao.clearance.models import State
from tests import factories as f
from tests.conftest import record
from tests.e2e.conftest import ARTIFACTS, PHONE, login

pytestmark = pytest.mark.browser


def test_scanning_a_students_code_at_the_dormitory_counter(
    uni, live_server, browser, page, screenshot
):
    # The student opens the code on a phone.
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        student = phone.new_page()
        login(student, live_server, "2022000001", f.PASSWORD)
        with student.expect_navigation():
            student.get_by_role("link", name="出示离校码").click()
        qr = student.locator("figure.qr svg")
        assert qr.is_visible() and qr.bounding_box()["width"] >= 250  # readable at arm's length
        assert student.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert "有效至" in student.inner_text("main")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        student.screenshot(path=str(ARTIFACTS / "counter-code-phone.png"), full_page=True)
    finally:
        phone.close()

    # The dormitory handler's desk scanner types what the QR holds (the desk URL with the
    # student's code; tests/desk/test_counter.py checks the page encodes exactly that) + Enter.
    url = f"{live_server.url}/desk/code/{departure_code.make(uni.form.id)}/"
    login(page, live_server, "D4001", f.PASSWORD)
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/")
    page.fill("#id_q", url)
    with page.expect_navigation():
        page.press("#id_q", "Enter")
    dorm = record(uni.form, "学生公寓")
    assert page.url.endswith(f"/f/{uni.form.id}/#record-{dorm.id}")
    page.locator(f"#record-{dorm.id}").get_by_role("button", name="办理通过").click()
    page.locator(f"#record-{dorm.id}").get_by_label("学生公寓：已办理").wait_for()
    screenshot("after-scan")
    assert record(uni.form, "学生公寓").state == State.PASSED
