"""The departure form at /me/: data, states with words, reasons, history, batches, query count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Record, Step
from lixiao.directory.models import Department
from tests import factories as f
from tests.conftest import record
from tests.portal.conftest import library_row

pytestmark = pytest.mark.django_db


def page(client, user) -> str:
    client.force_login(user)
    response = client.get("/me/")
    assert response.status_code == 200
    return response.content.decode()


def step_html(html: str, title: str) -> str:
    """The <li> of one step on the page."""
    start = html.index(f'<h3 class="h6 mb-1">{title}')
    return html[start : html.index("</li>\n", start)]


def test_personal_data_masked_id_and_progress(uni, client):
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    html = page(client, uni.student.user)
    s = uni.student
    for text in (
        s.name,
        s.student_number,
        uni.cs.name,
        s.major,
        s.class_name,
        s.student_type,
        uni.batch.name,
        s.id_number_masked,
    ):
        assert text in html
    assert f.id_number(1) not in html and f.id_number(1)[-6:] not in html
    # Rule "all": 图书馆 passed; 6 steps of which all apply to a party member.
    assert "<strong>1 / 6</strong> 环节已完成" in html


def test_required_rule_counts_required_steps(uni, client):
    uni.category.completion_rule = "required"
    uni.category.save()
    html = page(client, uni.student.user)
    assert "<strong>0 / 5</strong> 必办环节已完成" in html  # 校友会登记 is optional


def test_every_step_in_order_with_colour_and_word(uni, client):
    html = page(client, uni.student_cs2.user)
    titles = ["图书馆", "财务处", "学生公寓", "校友会登记", "组织关系转移", "院系离校"]
    positions = [html.index(f'<h3 class="h6 mb-1">{t}') for t in titles]
    assert positions == sorted(positions)
    grey = step_html(html, "组织关系转移")
    assert "state-not_required" in grey and "无需办理" in grey
    assert "仅适用于政治面貌为 中共党员、中共预备党员的学生" in grey
    red = step_html(html, "学生公寓")
    assert 'class="state-badge state-pending" aria-label="学生公寓：未办理">未办理' in red
    assert "交还宿舍钥匙" in red and "公寓中心" in red


def test_passed_step_shows_time_and_green_word(uni, client):
    services.pass_record(services.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    passed = step_html(page(client, uni.student.user), "学生公寓")
    assert "已办理" in passed and "state-passed" in passed and "办理时间" in passed


def test_contact_of_department_or_step(uni, client):
    Step.objects.filter(category=uni.category, title="院系离校").update(contact="学院办公室 A201")
    html = page(client, uni.student.user)
    assert "图书馆一楼 023-0001" in step_html(html, "图书馆")
    assert "学院办公室 A201" in step_html(html, "院系离校")


def test_pending_automatic_step_shows_reason_and_refresh_time(uni, client):
    row = library_row(uni.student.student_number)
    services.apply_many(
        services.Actor.system("sync"),
        uni.batch,
        record(uni.form, "图书馆").step,
        [services.Item(uni.form.id, "pending", reason="未还图书 2 册")],
    )
    library = step_html(page(client, uni.student.user), "图书馆")
    assert "未还图书 2 册" in library
    assert timezone.localtime(row.checked_at).strftime("%Y-%m-%d %H:%M") in library
    finance = step_html(page(client, uni.student.user), "财务处")
    assert "尚未收到您的数据" in finance


def test_history_shows_unit_and_states_but_no_name_by_default(uni, client, settings):
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    services.revoke_record(
        services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id, "图书有污损"
    )
    uni.library.staff.department = Department.objects.get(code="LIB")
    uni.library.staff.save()
    library = step_html(page(client, uni.student.user), "图书馆")
    assert "<details" in library and "办理记录（2）" in library
    assert "图书馆（现场办理）：未办理 → 已办理" in library
    assert "已办理 → 未办理，图书有污损" in library
    assert "图书馆王老师" not in library
    settings.LIXIAO_SHOW_HANDLER_NAMES = True
    assert "图书馆王老师" in step_html(page(client, uni.student.user), "图书馆")


def test_several_batches_latest_first(uni, client):
    later = f.batch(
        uni.category, name="2026届补办批次", opens_at=timezone.now() - timedelta(hours=1)
    )
    f.enrol(later, [uni.student])
    html = page(client, uni.student.user)
    assert html.index("2026届补办批次") < html.index("2026届本科生离校")


def test_window_not_yet_and_closed_notices(uni, client):
    now = timezone.now()
    uni.batch.opens_at, uni.batch.closes_at = now + timedelta(days=2), now + timedelta(days=9)
    uni.batch.save()
    html = page(client, uni.student.user)
    assert "本批次尚未开放，将于" in html and "我已办理" not in html
    uni.batch.opens_at, uni.batch.closes_at = now - timedelta(days=9), now - timedelta(days=2)
    uni.batch.save()
    assert "本批次已于" in page(client, uni.student.user)


def test_disabled_batch_is_invisible_and_no_batch_is_a_notice(uni, client):
    other = f.batch(uni.category, name="停用批次", enabled=False)
    f.enrol(other, [uni.student])
    html = page(client, uni.student.user)
    assert "停用批次" not in html
    loner = f.student("2022000099", "孤同学", uni.cs)
    assert "您目前不在任何离校批次的名单中" in page(client, loner.user)


def test_complete_form_offers_certificate(uni, client):
    from tests.portal.conftest import complete_form

    form = complete_form(uni)
    html = page(client, form.student.user)
    assert "已办结" in html and f"/me/certificate/{uni.batch.id}/" in html


def add_steps(category, n, start):
    for i in range(start, start + n):
        Step.objects.create(
            category=category,
            title=f"附加环节{i}",
            owner_type="college",
            order=10 + i,
            instructions="到学院办理",
        )


def test_query_count_does_not_grow_with_steps(uni, client, django_assert_max_num_queries):
    client.force_login(uni.student.user)
    client.get("/me/")  # the first request after login also refreshes the session
    for t in ("图书馆", "学生公寓"):
        services.pass_record(services.Actor(uni.office, "admin"), record(uni.form, t).id)
    library_row(uni.student.student_number)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/me/")
    add_steps(uni.category, 10, 0)
    services.add_step_records(services.Actor.system("admin"), Step.objects.get(title="附加环节0"))
    for step in Step.objects.filter(title__startswith="附加环节").exclude(title="附加环节0"):
        services.add_step_records(services.Actor.system("admin"), step)
    assert Record.objects.filter(form=uni.form).count() == 16
    with django_assert_max_num_queries(8):
        with CaptureQueriesContext(connection) as many:
            html = client.get("/me/").content.decode()
    assert "附加环节9" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_pending_step_past_its_deadline_says_so(uni, client):
    today = timezone.localdate()
    Step.objects.filter(category=uni.category, title="学生公寓").update(
        deadline=today - timedelta(days=1)
    )
    Step.objects.filter(category=uni.category, title="图书馆").update(
        deadline=today + timedelta(days=2)
    )
    services.pass_record(services.Actor(uni.office, "admin"), record(uni.form_cs2, "学生公寓").id)
    html = page(client, uni.student.user)
    late = step_html(html, "学生公寓")
    assert f"{today - timedelta(days=1):%Y-%m-%d}" in late and "已过截止日期" in late
    soon = step_html(html, "图书馆")
    assert f"{today + timedelta(days=2):%Y-%m-%d}" in soon and "已过截止日期" not in soon
    # Passed: neither the date nor the hint.
    assert "已过截止日期" not in step_html(page(client, uni.student_cs2.user), "学生公寓")
