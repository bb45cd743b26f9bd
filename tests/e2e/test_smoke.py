"""Smoke test in a real browser: a student logs in, sees the form; wrong and initial passwords."""

import pytest

from lixiao.clearance import services
from lixiao.directory import idnumbers
from lixiao.directory.services import StudentRow, upsert_students
from tests import factories as f
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Lixiao-New-2026!"


def test_student_logs_in_and_sees_the_form(uni, live_server, page, screenshot):
    login(page, live_server, uni.student.student_number, f.PASSWORD)

    assert page.url == f"{live_server.url}/me/"
    body = page.locator("main")
    assert uni.batch.name in body.inner_text()
    assert "未办理" in body.inner_text()
    assert page.locator(".state-badge.state-pending").first.is_visible()

    width = screenshot("form")
    assert width <= 375, f"the form scrolls sideways on a phone ({width} px wide)"


def test_wrong_password_shows_the_chinese_error(uni, live_server, page, screenshot):
    login(page, live_server, uni.student.student_number, "not-the-password")

    assert "/accounts/login/" in page.url
    alert = page.get_by_role("alert")
    assert "学号/职工号或密码不正确" in alert.inner_text()

    width = screenshot("login-error")
    assert width <= 375, f"the login page scrolls sideways on a phone ({width} px wide)"


def _student_on_initial_password(uni) -> tuple[str, str]:
    """A student imported the way a roster does it; returns 学号 and the initial password."""
    # An ID number ending in X: the initial password is its last 6 with the X upper-case.
    id_number = next(n for n in map(f.id_number, range(100, 1000)) if n.endswith("X"))
    row = StudentRow(
        student_number="2022000007",
        name="吴同学",
        id_number=id_number,
        college_id=uni.cs.id,
        student_type="本科生",
        major="软件工程",
    )
    student_id = upsert_students([row]).ids[row.student_number]
    attributes = {
        "political_status": "",
        "student_type": "本科生",
        "college": uni.cs.code,
        "major": row.major,
        "gender": "",
        "dormitory": "",
    }
    enrolment = services.Enrolment(student_id, uni.cs.id, uni.counselor_cs.id, attributes)
    services.enrol(services.Actor.system("roster"), uni.batch, [enrolment])
    return row.student_number, idnumbers.initial_password(id_number)


def test_initial_password_must_be_changed_before_the_form(uni, live_server, page, screenshot):
    number, initial = _student_on_initial_password(uni)
    assert initial.endswith("X")

    login(page, live_server, number, initial)
    assert page.url.endswith("/accounts/password/")
    # Any other page sends the person back until the password is changed, and the
    # password page itself stays put (no script on it may bounce it into a reload loop).
    arrivals = []
    page.on("load", lambda: arrivals.append(page.url))
    page.goto(f"{live_server.url}/me/")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/accounts/password/")
    assert len(arrivals) == 1, f"the password page reloaded itself: {arrivals}"
    assert "您仍在使用初始密码" in page.locator("main").inner_text()
    width = screenshot("forced-change")
    assert width <= 375, f"the password page scrolls sideways on a phone ({width} px wide)"

    page.fill("#id_current", initial)
    page.fill("#id_new1", NEW_PASSWORD)
    page.fill("#id_new2", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("main form button")

    assert page.url == f"{live_server.url}/me/"
    assert "密码已修改" in page.locator("main").inner_text()
    assert uni.batch.name in page.locator("main").inner_text()

    # The new password works and the initial one no longer does.
    page.context.clear_cookies()
    login(page, live_server, number, initial)
    assert "学号/职工号或密码不正确" in page.get_by_role("alert").inner_text()
    login(page, live_server, number, NEW_PASSWORD)
    assert page.url == f"{live_server.url}/me/"


def test_a_person_with_two_roles_chooses_one_and_switches_from_the_header(uni, live_server, page):
    uni.counselor_cs.is_office = True
    uni.counselor_cs.save(update_fields=["is_office"])

    login(page, live_server, uni.counselor_cs.username, f.PASSWORD)
    assert page.url.endswith("/accounts/role/")
    with page.expect_navigation():
        page.get_by_role("button", name="院系辅导员").click()
    assert "/desk/" in page.url

    switch = page.get_by_label("当前身份")
    assert switch.input_value() == "counselor"
    with page.expect_navigation():
        switch.select_option("office")
    assert "/console/" in page.url
    assert page.get_by_label("当前身份").input_value() == "office"
