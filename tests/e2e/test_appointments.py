"""预约办理 in Chromium: a student books on a 375 px phone (htmx day switch, no sideways scroll),
the page shows it; the dormitory's scanner checks the student in on today's list."""

from datetime import timedelta

import pytest

from lixiao.appointments import services
from lixiao.appointments.models import Booking
from lixiao.clearance import departure_code
from tests import factories as f
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record
from tests.e2e.conftest import ARTIFACTS, PHONE, login

pytestmark = pytest.mark.browser


def test_a_student_books_on_a_phone_and_is_checked_in_by_the_scan(uni, live_server, browser, page):
    make_plan(uni, capacity=3)
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        me = phone.new_page()
        login(me, live_server, "2022000001", f.PASSWORD)
        with me.expect_navigation():
            me.get_by_role("link", name="预约办理时间").click()
        # Another day, swapped in place by htmx: the address follows (back works).
        day = f"{at(1, 0):%Y-%m-%d}"
        me.locator(f"a[href='?day={day}']").click()
        me.wait_for_url(f"**day={day}")
        me.locator("label[for]:has-text('09:00–09:30')").click()
        assert me.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        me.screenshot(path=str(ARTIFACTS / "appointment-booking-phone.png"), full_page=True)
        with me.expect_navigation():
            me.get_by_role("button", name="确认预约").click()
        assert "已预约“学生公寓”" in me.inner_text("main")
        step = me.locator(f"#step-{record(uni.form, '学生公寓').id}")
        assert f"{at(1, 9):%Y-%m-%d}" in step.inner_text() and "09:00–09:30" in step.inner_text()
        assert me.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()
    booking = Booking.objects.get(form=uni.form)
    assert booking.slot.starts_at == at(1, 9) and booking.status == "booked"

    # Today at the dormitory: another student's booking, checked in by the desk scanner.
    today = services.book(
        student(uni.student_cs2.user),
        record(uni.form_cs2, "学生公寓").id,
        at(0, 0),
        now=at(0, 0) - timedelta(minutes=1),
    )
    login(page, live_server, "D4001", f.PASSWORD)
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/")
    page.fill("#id_q", f"{live_server.url}/desk/code/{departure_code.make(uni.form_cs2.id)}/")
    with page.expect_navigation():
        page.press("#id_q", "Enter")
    assert "已签到：“学生公寓”预约 00:00–00:30" in page.inner_text("main")
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/appointments/")
    assert "已签到" in page.locator(".board-slot").first.inner_text()
    page.set_viewport_size(PHONE)  # a handler scanning with a phone reads the day there too
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "appointment-day-phone.png"), full_page=False)
    today.refresh_from_db()
    assert today.status == "arrived"


def test_appointment_pages_are_accessible_under_the_policy(uni, live_server, browser, page):
    """axe (serious and critical) on each appointment page at 1280 and 375 px; the CSP watch of
    tests/e2e/conftest.py sees every page too."""
    from tests.e2e.conftest import DESKTOP, axe_violations

    plan = make_plan(uni, capacity=2)
    dorm = record(uni.form, "学生公寓").id
    services.book(student(uni.student.user), dorm, at(1, 9))
    services.book(
        student(uni.student_cs2.user),
        record(uni.form_cs2, "学生公寓").id,
        at(0, 0),
        now=at(0, 0) - timedelta(minutes=1),
    )
    problems = []

    def check(who: str, path: str) -> None:
        response = page.goto(live_server.url + path)
        assert response.ok, path
        page.wait_for_load_state("networkidle")
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            problems.extend(
                f"{who} {path} ({size['width']} px): {line}" for line in axe_violations(page)
            )
        page.set_viewport_size(DESKTOP)

    login(page, live_server, "2022000001", f.PASSWORD)
    for path in ("/me/", f"/me/appointments/{dorm}/", f"/me/code/{uni.form.id}/"):
        check("student", path)
    page.context.clear_cookies()
    login(page, live_server, "D4001", f.PASSWORD)
    desk = f"/desk/b/{uni.batch.id}/"
    for path in (desk, desk + "appointments/", desk + f"appointments/settings/{plan.step_id}/"):
        check("dorm", path)
    page.context.clear_cookies()
    login(page, live_server, "A0001", f.PASSWORD)
    console = f"/console/batches/{uni.batch.id}/appointments/"
    for path in (console, f"{console}{plan.step_id}/", f"{console}{plan.step_id}/use/"):
        check("office", path)
    assert not problems, "\n".join(problems)
