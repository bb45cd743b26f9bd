"""Keyboard alone: a handler logs in, searches, opens a student and passes a step — no mouse."""

import pytest

from lixiao.clearance.models import State
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.browser


def focused(page) -> dict:
    """What has keyboard focus: tag, text, id, name, href."""
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            tag: e.tagName.toLowerCase(), text: (e.innerText || "").trim(), id: e.id,
            name: e.getAttribute("name"), href: e.getAttribute("href") || "" }; }"""
    )


def tab_to(page, wanted, limit: int = 80) -> dict:
    """Press Tab until focus is on what wanted(focused) accepts; fail if it never gets there."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
        seen.append(now["text"] or now["name"] or now["tag"])
    raise AssertionError(f"Tab never reached it; focus went through: {seen}")


def enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_handler_searches_opens_a_student_and_passes_a_step_by_keyboard(uni, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    assert focused(page)["id"] == "id_username"  # the login form takes focus itself
    page.keyboard.type(uni.dorm.username)
    page.keyboard.press("Tab")
    page.keyboard.type(f.PASSWORD)
    enter_and_wait(page)
    assert page.url.endswith("/desk/")

    # The skip link comes first, then the header; Tab on to the batch's 进入办理.
    first = tab_to(page, lambda e: True)
    assert first["text"] == "跳到正文"
    tab_to(page, lambda e: e["text"] == "进入办理")
    enter_and_wait(page)

    # The search box has focus on arrival: type the 学号 and press Enter.
    assert focused(page)["id"] == "id_q"
    page.keyboard.type("2022000001")
    enter_and_wait(page)
    assert "2022000001" in page.inner_text("#results")

    tab_to(page, lambda e: e["tag"] == "a" and e["text"] == "2022000001")
    enter_and_wait(page)
    assert f"/f/{uni.form.id}/" in page.url

    dorm = record(uni.form, "学生公寓")
    button = tab_to(page, lambda e: e["id"] == f"act-{dorm.id}")
    assert button["text"] == "办理通过"
    page.keyboard.press("Enter")
    page.locator(f"#record-{dorm.id}").get_by_label("学生公寓：已办理").wait_for()
    assert "已办理通过" in page.locator(f"#record-{dorm.id} [role=status]").inner_text()
    # Focus stays where the person was: on the same step's button, now 撤销.
    assert focused(page) == {**focused(page), "id": f"act-{dorm.id}", "text": "撤销"}
    assert record(uni.form, "学生公寓").state == State.PASSED
