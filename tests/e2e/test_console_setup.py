"""In a real browser, the office sets up a season: a category of 4 steps, a batch, a college grant."""

import re

import pytest

from lixiao.clearance.models import Batch, Grant, Step
from tests import factories as f
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def add_step(
    page,
    title: str,
    owner: str,
    department: str | None = None,
    *,
    source: str | None = None,
    final: bool = False,
    condition: tuple[str, str] | None = None,
) -> None:
    page.click("main a:has-text('添加环节')")
    page.fill("#id_title", title)
    page.select_option("#id_owner_type", label=owner)
    if department:
        page.select_option("#id_department", label=department)
    if source:
        page.check("#id_automatic")
        page.select_option("#id_source", label=source)
    if final:
        page.check("#id_is_final")
    if condition:
        page.select_option("#id_cond-0-attr", label=condition[0])
        page.select_option("#id_cond-0-op", label="属于")
        page.fill("#id_cond-0-values", condition[1])
    with page.expect_navigation():
        page.click("text=保存环节")
    assert f"已保存环节“{title}”" in page.locator("main").inner_text()


def test_office_sets_up_category_batch_and_grant(uni, live_server, page, screenshot):
    login(page, live_server, uni.office.username, f.PASSWORD)
    page.goto(f"{live_server.url}/console/categories/new/")
    page.fill("#id_name", "2027届本科生离校")
    page.check("text=办结必办即完成")
    with page.expect_navigation():
        page.click("main button:has-text('下一步')")

    add_step(page, "图书馆", "学校部门", "图书馆", source="集成表2 图书馆")
    add_step(page, "组织关系转移", "院系", condition=("政治面貌", "中共党员、中共预备党员"))
    add_step(page, "学生公寓", "学校部门", "学生公寓")
    add_step(page, "院系离校", "院系", final=True)
    table = page.locator("#steps")
    assert "仅适用于政治面貌为 中共党员、中共预备党员的学生" in table.inner_text()
    assert "自动（集成表2 图书馆）" in table.inner_text()

    # Move 学生公寓 up with htmx: the table is replaced in place, the page is not reloaded.
    page.evaluate("window.__stayed = true")
    page.click("button[aria-label='上移 学生公寓']")
    # (a locator, not wait_for_function: that evals its text, which the page's CSP refuses)
    page.locator("#steps", has_text=re.compile("学生公寓.*组织关系转移", re.S)).wait_for()
    assert page.evaluate("window.__stayed") is True
    width = screenshot("category-steps")
    assert width <= 375, f"the steps page scrolls sideways on a phone ({width} px wide)"

    # 下一步 through grants and service settings to the end of the guided set-up.
    for expected in ("人员授权", "学生服务设置", "设置完成"):
        with page.expect_navigation():
            page.click("main a:has-text('下一步')")
        assert expected in page.locator("main").inner_text()

    category_steps = list(
        Step.objects.filter(category__name="2027届本科生离校")
        .order_by("order")
        .values_list("title", "automatic", "is_final")
    )
    assert category_steps == [
        ("图书馆", True, False),
        ("学生公寓", False, False),
        ("组织关系转移", False, False),
        ("院系离校", False, True),
    ]
    assert (
        Step.objects.get(category__name="2027届本科生离校", title="图书馆").source.code == "library"
    )

    with page.expect_navigation():
        page.click("main a.btn:has-text('新建离校批次')")
    page.fill("#id_name", "2027届本科生离校（6月）")
    page.fill("#id_academic_year", "2026-2027")
    page.select_option("#id_student_type", label="本科生")
    page.select_option("#id_category", label="2027届本科生离校")
    page.fill("#id_opens_at", "2027-06-01T08:00")
    page.fill("#id_closes_at", "2027-07-15T18:00")
    with page.expect_navigation():
        page.click("main button:has-text('下一步')")
    batch = Batch.objects.get(name="2027届本科生离校（6月）")
    assert "名单" in page.locator("main").inner_text()

    with page.expect_navigation():
        page.click("main a:has-text('下一步')")
    page.select_option("#id_step", label="院系离校")
    page.fill("#id_staff_number", uni.counselor_cs.username)
    page.select_option("#id_scope", label="本院系")
    page.select_option("#id_college", label=uni.cs.name)
    with page.expect_navigation():
        page.click("main button:has-text('添加授权')")
    assert "已授权" in page.locator("main").inner_text()
    assert "张老师" in page.locator("#grants-table").inner_text()
    width = screenshot("batch-grants")
    assert width <= 375, f"the grants page scrolls sideways on a phone ({width} px wide)"
    grant = Grant.objects.get(batch=batch, user=uni.counselor_cs)
    assert (grant.step.title, grant.scope, grant.college) == ("院系离校", "college", uni.cs)
