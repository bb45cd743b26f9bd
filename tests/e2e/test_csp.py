"""Under the Content-Security-Policy in Chromium: the watch catches a violation, and what moved
out of inline code (lixiao.js, classes, htmx's config) still works on the pages that use it."""

import pytest

from lixiao.clearance.models import State
from lixiao.demo import survey as demo_survey
from tests import factories as f
from tests.conftest import record
from tests.e2e.conftest import login
from tests.portal.conftest import complete_form

pytestmark = pytest.mark.browser


def test_the_watch_catches_what_the_policy_blocks(uni, live_server, browser, page):
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.head.appendChild(script);
        document.querySelector("main").setAttribute("style", "color: red");
    }"""
    )
    page.evaluate("0")  # a round trip: the reports have reached the watch
    directives = {v.get("directive") for v in browser.csp.violations if "directive" in v}
    assert {"script-src-elem", "style-src-attr"} <= directives
    assert page.evaluate("window.__ran") is None  # the inline script never ran
    browser.csp.violations.clear()  # seen: this test's own doing, not the page's


def test_header_selects_and_the_language_switch(uni, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    # htmx added no <style> of its own, and nothing on the page carries one.
    assert page.evaluate("document.querySelectorAll('style, [style]').length") == 0
    switch = page.get_by_label("界面语言")
    assert not page.locator("[data-autosubmit-button]").is_visible()  # script runs: no button

    # The keyboard walks the options without leaving the page; Enter sends the choice.
    switch.focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("[data-autosubmit-button]").is_visible()
    assert page.locator("h1").inner_text() == "登录离校系统"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Log in to departure clearance"

    # A pointer choice sends it at once.
    with page.expect_navigation():
        page.get_by_label("Language").select_option("zh-hans")
    assert page.locator("h1").inner_text() == "登录离校系统"


def test_student_pages_code_survey_and_certificate(uni, live_server, page):
    demo_survey.create(uni.category)
    login(page, live_server, "2022000001", f.PASSWORD)
    page.goto(f"{live_server.url}/me/code/{uni.form.id}/")
    assert page.locator("figure.qr svg").is_visible()
    # The code renews itself in place (htmx), not by reloading the page.
    assert page.locator("#counter-code[hx-trigger^='every']").count() == 1
    assert page.locator("meta[http-equiv=refresh]").count() == 0

    page.goto(f"{live_server.url}/me/survey/{uni.form.id}/")
    for fieldset in page.locator("main form fieldset").all():
        choice = fieldset.locator("input.form-check-input").first
        if choice.count():
            choice.check()
        else:
            fieldset.locator("textarea").fill("很好")
    with page.expect_navigation():
        page.locator("main form button[type=submit], main form button").last.click()
    page.goto(f"{live_server.url}/me/survey/{uni.form.id}/")
    assert page.get_by_role("status").first.inner_text().startswith("您已于")
    page.context.clear_cookies()

    complete_form(uni)
    login(page, live_server, "2022000002", f.PASSWORD)
    page.goto(f"{live_server.url}/me/certificate/{uni.batch.id}/")
    assert page.locator(".qr svg").is_visible()
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") is True


def test_desk_panels_bulk_select_all_and_id_number_search_by_post(uni, live_server, page):
    login(page, live_server, uni.dorm.username, f.PASSWORD)
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/")
    # The live panels load and refresh through htmx.
    page.locator("#stats table").wait_for()
    page.locator("#recent .list-group").wait_for()
    assert "学生公寓" in page.inner_text("#stats")

    # A full ID number is searched by POST: it never reaches the URL.
    id_number = f.id_number(1)  # 2022000001 was made with seed 1
    page.fill("#id_q", id_number)
    with page.expect_navigation():
        page.press("#id_q", "Enter")
    assert id_number not in page.url
    assert page.locator("#result-count").inner_text() == "1"

    # 全选本页 ticks every row's box; the bulk pass then reaches them all.
    page.goto(f"{live_server.url}/desk/b/{uni.batch.id}/?q=20220000")
    page.get_by_label("全选本页").check()
    boxes = page.locator("#bulk-form input[name=form]")
    assert boxes.count() == 3
    assert all(box.is_checked() for box in boxes.all())
    page.select_option("#bulk-step", label="学生公寓")
    with page.expect_navigation():
        page.click("#bulk-form button[value=pass]")
    assert "已办理通过：3 人" in page.inner_text("#bulk-summary")
    page.context.clear_cookies()

    # The office's undo asks first: "no" changes nothing, "yes" undoes the group.
    login(page, live_server, uni.office.username, f.PASSWORD)
    page.goto(f"{live_server.url}/console/audit/")
    undo = page.get_by_role("button", name="撤销").first
    page.once("dialog", lambda dialog: dialog.dismiss())
    undo.click()
    page.wait_for_load_state("networkidle")
    assert record(uni.form, "学生公寓").state == State.PASSED
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        undo.click()
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_console_chart_and_progress_bars(uni, live_server, page):
    complete_form(uni)
    login(page, live_server, uni.office.username, f.PASSWORD)
    page.goto(f"{live_server.url}/console/batches/{uni.batch.id}/supervision/")
    chart = page.get_by_role("img", name="每日办结人数")
    assert chart.is_visible() and chart.locator("rect").count() >= 1
    assert chart.bounding_box()["height"] <= 240  # the CSS class bounds it, not a style attribute
    burn_down = page.locator("svg.svg-chart").first  # the forecast's chart, drawn the same way
    assert burn_down.is_visible() and burn_down.bounding_box()["height"] <= 240
    # A bar's width comes from its class: 1 of 4 students done is a quarter of the track.
    bar = page.locator("#overall ~ .progress .progress-bar")
    track = page.locator("#overall ~ .progress")
    ratio = bar.bounding_box()["width"] / track.bounding_box()["width"]
    assert 0.24 <= ratio <= 0.26


def test_the_api_documentation_is_served_here_under_the_policy(live_server, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Lixiao" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_load_state("networkidle")
    elsewhere = [url for url in requests if not url.startswith((live_server.url, "data:"))]
    assert not elsewhere, f"the API docs loaded from elsewhere: {elsewhere}"
