"""The student portal in Chromium: a red and a grey step, the certificate and its live verification."""

import pytest

from lixiao.clearance import services
from lixiao.clearance.models import OwnerType, Step
from tests import factories as f
from tests.conftest import record
from tests.e2e.conftest import PHONE, login
from tests.portal.conftest import complete_form

pytestmark = pytest.mark.browser


def test_student_sees_red_step_with_instructions_and_grey_step_with_reason(
    uni, live_server, page, screenshot
):
    # A step for graduate students only: grey for 2022000001, an undergraduate.
    step = Step.objects.create(
        category=uni.category,
        title="研究生院档案",
        owner_type=OwnerType.COLLEGE,
        order=7,
        condition=[{"attr": "student_type", "op": "in", "values": ["硕士研究生", "博士研究生"]}],
    )
    services.add_step_records(services.Actor.system("admin"), step)
    login(page, live_server, "2022000001", f.PASSWORD)
    assert page.url == f"{live_server.url}/me/"

    red = page.locator(f"#step-{record(uni.form, '学生公寓').id}")
    assert red.get_by_label("学生公寓：未办理").is_visible()
    assert "交还宿舍钥匙" in red.inner_text()
    grey = page.locator(f"#step-{record(uni.form, '研究生院档案').id}")
    assert "无需办理" in grey.inner_text()
    assert "仅适用于学生类别为 硕士研究生、博士研究生的学生" in grey.inner_text()

    red.locator("summary").click()  # the history opens without any script
    assert "暂无办理记录" in red.inner_text()
    width = screenshot("form")
    assert width <= PHONE["width"], f"the form scrolls sideways on a phone ({width} px wide)"


def test_certificate_verifies_complete_then_not_after_revoke(
    uni, live_server, browser, page, screenshot
):
    form = complete_form(uni)  # 学号 2022000002
    login(page, live_server, "2022000002", f.PASSWORD)
    page.get_by_role("link", name="打印离校证明").click()
    page.wait_for_url(f"**/me/certificate/{uni.batch.id}/")
    assert page.locator(".qr svg").is_visible()
    url = page.locator("code").inner_text()
    width = screenshot("certificate")
    assert width <= PHONE["width"], f"the certificate scrolls sideways on a phone ({width} px wide)"

    # The diploma desk: a fresh browser with no session.
    desk = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        scan = desk.new_page()
        scan.goto(url)
        assert scan.get_by_role("status").inner_text() == "已办结"
        assert "陈*明" in scan.inner_text("main") and "2022000002" in scan.inner_text("main")
        scan.screenshot(path=str(_artifact("verify-complete-phone.png")), full_page=True)

        services.revoke_record(
            services.Actor(uni.office, "admin"), record(form, "财务处").id, "补缴学费"
        )
        scan.reload()
        assert scan.get_by_role("status").inner_text() == "未办结"
        scan.screenshot(path=str(_artifact("verify-revoked-phone.png")), full_page=True)

        scan.goto(url[:-3] + "xx/")
        assert scan.get_by_role("status").inner_text() == "证明无效"
    finally:
        desk.close()


def _artifact(name: str):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"test_portal-{name}"
