"""Accessibility (GB/T 37668-2019 / WCAG 2.1 AA): axe-core on every page type, at 1280 and 375 px.

Each test walks one person's pages and runs axe on each at both widths; a serious or critical
violation anywhere fails it, with every page's findings listed. The Content-Security-Policy
watch of tests/e2e/conftest.py runs on all of them too.
"""

import io
import os

import pytest
import xlsxwriter

from lixiao.clearance import departure_code
from lixiao.clearance.models import Grant
from lixiao.demo import survey as demo_survey
from tests import factories as f
from tests.console.importing import roster_file, roster_row
from tests.e2e.conftest import DESKTOP, PHONE, axe_violations, login
from tests.portal.conftest import complete_form

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# LIXIAO_AXE_ALL=1 also prints the moderate and minor findings (never a failure).
SHOW_ALL = os.environ.get("LIXIAO_AXE_ALL") == "1"


class Pages:
    """Visits pages and runs axe on each at both widths, keeping every blocking finding."""

    def __init__(self, page, live_server):
        self.page = page
        self.base = live_server.url
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str) -> None:
        """axe on the page as it stands, at 1280 px and at 375 px."""
        self.page.wait_for_load_state("networkidle")
        for size in (DESKTOP, PHONE):
            self.page.set_viewport_size(size)
            # Two frames: the page has answered the resize (lixiao.js re-checks scrolling tables).
            self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            found = axe_violations(self.page)
            self.problems += [f"{name} ({size['width']} px): {line}" for line in found]
            if SHOW_ALL:
                for line in axe_violations(self.page, impacts=("moderate", "minor")):
                    print(f"[axe] {name} ({size['width']} px): {line}")
        self.page.set_viewport_size(DESKTOP)
        self.checked.append(name)

    def visit(self, path: str, name: str) -> None:
        response = self.page.goto(self.base + path)
        assert response.ok, f"{name}: {path} answered {response.status}"
        self.check(name)

    def assert_clean(self) -> None:
        assert not self.problems, "axe found serious or critical violations:\n" + "\n".join(
            self.problems
        )


def results_xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate([["学号*", "结果*", "备注"], *rows]):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def test_login_password_change_and_error_pages(uni, live_server, page):
    pages = Pages(page, live_server)
    pages.visit("/accounts/login/", "login")
    login(page, live_server, uni.student.student_number, "not-the-password")
    pages.check("login with an error")

    login(page, live_server, uni.student.student_number, f.PASSWORD)
    pages.visit("/accounts/password/", "password change")
    page.fill("#id_current", f.PASSWORD)
    page.fill("#id_new1", "short")
    page.fill("#id_new2", "other")
    with page.expect_navigation():
        page.click("main form button")
    pages.check("password change with errors")
    page.goto(f"{live_server.url}/desk/")  # another surface: 403
    pages.check("403")
    page.goto(f"{live_server.url}/me/nothing-here/")
    pages.check("404")
    pages.assert_clean()


def test_student_pages(uni, live_server, page, browser):
    demo_survey.create(uni.category)
    pages = Pages(page, live_server)
    login(page, live_server, uni.student.student_number, f.PASSWORD)
    pages.check("student form")
    pages.visit(f"/me/code/{uni.form.id}/", "离校码")
    pages.visit(f"/me/survey/{uni.form.id}/", "survey")
    pages.visit("/inbox/", "notifications")
    page.context.clear_cookies()

    complete_form(uni)
    login(page, live_server, "2022000002", f.PASSWORD)
    pages.visit(f"/me/certificate/{uni.batch.id}/", "certificate")
    verify_url = page.locator("code").inner_text()
    page.context.clear_cookies()
    page.goto(verify_url)
    pages.check("certificate verification")
    page.goto(verify_url[:-3] + "xx/")
    pages.check("certificate verification, invalid")
    pages.assert_clean()


def test_desk_pages(uni, live_server, page):
    Grant.objects.filter(user=uni.counselor_cs).update(is_lead=True)  # may delegate
    pages = Pages(page, live_server)
    here = f"/desk/b/{uni.batch.id}/"
    login(page, live_server, uni.counselor_cs.username, f.PASSWORD)
    pages.visit("/desk/", "desk home")
    pages.visit(here, "desk search")
    pages.visit(here + "?q=2022000001&advanced=1", "desk search results")
    pages.visit(f"{here}f/{uni.form.id}/", "desk detail")
    page.locator("#desk-form").get_by_role("button", name="办理通过").last.click()
    page.locator("#desk-form [role=alert]").wait_for()
    pages.check("desk detail, refused")
    pages.visit(here + "objections/", "objections")
    pages.visit("/desk/delegate/", "delegation")
    pages.visit("/desk/change-requests/", "change requests (department)")
    page.context.clear_cookies()

    login(page, live_server, uni.dorm.username, f.PASSWORD)
    pages.visit(here + "import/", "desk import")
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "公寓.xlsx",
                "mimeType": XLSX,
                "buffer": results_xlsx([["2022000001", "通过", ""], ["2099999999", "好", ""]]),
            }
        ],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="上传并预览").click()
    pages.check("desk import preview")
    scan = f"/desk/code/{departure_code.make(uni.form.id)}/"
    pages.visit(scan, "counter scan landing")
    pages.assert_clean()


def test_console_pages(uni, live_server, page):
    pages = Pages(page, live_server)
    category = uni.category.id
    batch = uni.batch.id
    step = uni.category.steps.first().id
    login(page, live_server, uni.office.username, f.PASSWORD)
    pages.visit("/console/", "console home")
    pages.visit("/console/categories/", "categories")
    pages.visit("/console/categories/new/", "category set-up: name and rule")
    with page.expect_navigation():
        page.click("main button:has-text('下一步')")
    pages.check("category set-up: name missing")
    pages.visit(f"/console/categories/{category}/", "category set-up: steps")
    pages.visit(f"/console/categories/{category}/steps/new/", "category set-up: new step")
    pages.visit(f"/console/categories/{category}/steps/{step}/edit/", "category set-up: edit step")
    pages.visit(f"/console/categories/{category}/grants/", "category set-up: grants")
    pages.visit(f"/console/categories/{category}/service/", "category set-up: service settings")
    pages.visit(f"/console/categories/{category}/setup/done/", "category set-up: done")
    pages.visit("/console/batches/", "batches")
    pages.visit("/console/batches/new/", "batch set-up: basic data")
    pages.visit(f"/console/batches/{batch}/", "batch page")
    pages.visit(f"/console/batches/{batch}/grants/", "batch set-up: grants")
    pages.visit(f"/console/batches/{batch}/roster/", "batch set-up: roster")
    rows = [roster_row("2026900001", "名单学生", "CS", 301), roster_row("20269", "坏行", "CS", 302)]
    page.set_input_files(
        "#id_file", files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": roster_file(rows)}]
    )
    with page.expect_navigation():
        page.click("#roster-upload button")
    pages.check("roster import preview")
    pages.visit(f"/console/batches/{batch}/supervision/", "follow-up (supervision)")
    pages.visit("/console/audit/", "audit log")
    pages.visit("/console/masterdata/", "master data")
    pages.visit("/console/change-requests/", "change requests (office)")
    pages.visit(f"/console/categories/{category}/survey/results/", "survey results")
    pages.visit("/integrations/", "integration sources")
    pages.visit("/integrations/library/", "integration source")
    pages.visit("/accounts/totp/", "two-factor set-up")
    pages.visit("/accounts/totp/staff/", "two-factor (staff list)")
    pages.assert_clean()
