"""预约办理 in the console: the steps of a batch with their plans, the settings form, the use of
each slot; the audit administrator reads, never saves."""

import pytest
from django.test import Client

from lixiao.appointments import services
from lixiao.appointments.models import Plan
from lixiao.clearance import services as core
from lixiao.clearance.models import Event, Step
from tests import factories as f
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record

pytestmark = pytest.mark.django_db

FORM = {
    "enabled": "on",
    "slot_minutes": "30",
    "capacity": "3",
    "days_ahead": "7",
    "closed_dates": "",
    **{f"day{i}": "8:30-11:30, 14:00-17:00" for i in range(5)},
    "day5": "9:00-12:00",
    "day6": "",
}


def office(uni) -> Client:
    client = Client()
    client.force_login(uni.office)
    return client


def test_the_list_offers_every_manual_step_and_names_the_plans(uni):
    make_plan(uni)
    html = office(uni).get(f"/console/batches/{uni.batch.id}/appointments/").content.decode()
    for title in ("学生公寓", "校友会登记", "组织关系转移", "院系离校"):
        assert title in html
    assert "图书馆" not in html and "财务处" not in html  # automatic: nobody comes
    assert "时段使用情况" in html and "开放预约" in html
    assert (
        f"/console/batches/{uni.batch.id}/appointments/"
        in office(uni).get(f"/console/batches/{uni.batch.id}/").content.decode()
    )


def test_the_office_saves_a_plan_and_it_is_audited(uni):
    step = Step.objects.get(category=uni.category, title="校友会登记")
    page = f"/console/batches/{uni.batch.id}/appointments/{step.id}/"
    assert office(uni).get(page).status_code == 200
    response = office(uni).post(page, FORM)
    assert response.status_code == 302
    plan = Plan.objects.get(step=step)
    assert plan.hours[5] == [["09:00", "12:00"]] and plan.hours[6] == []
    assert Event.objects.get(action="appointments.plan.created").actor == uni.office
    bad = office(uni).post(page, {**FORM, "capacity": "0", "closed_dates": "6月20日"})
    html = bad.content.decode()
    assert bad.status_code == 200 and "无法识别" in html
    library = Step.objects.get(category=uni.category, title="图书馆")
    assert (
        office(uni).get(f"/console/batches/{uni.batch.id}/appointments/{library.id}/").status_code
        == 404
    )


def test_the_audit_administrator_reads_but_cannot_save(uni):
    auditor = f.staff("AU001", "审计员", is_auditor=True)
    client = Client()
    client.force_login(auditor)
    step = Step.objects.get(category=uni.category, title="学生公寓")
    assert client.get(f"/console/batches/{uni.batch.id}/appointments/").status_code == 200
    assert (
        client.post(f"/console/batches/{uni.batch.id}/appointments/{step.id}/", FORM).status_code
        == 403
    )
    assert not Plan.objects.exists()
    dorm = Client()
    dorm.force_login(uni.dorm)
    assert dorm.get(f"/console/batches/{uni.batch.id}/appointments/").status_code == 403


def test_the_use_of_each_slot(uni):
    plan = make_plan(uni, capacity=2)
    for form in (uni.form, uni.form_cs2):
        services.book(student(form.student.user), record(form, "学生公寓").id, at(1, 9))
    waiting = services.book(
        student(uni.student_lit.user), record(uni.form_lit, "学生公寓").id, at(1, 10)
    )
    services.cancel(student(uni.student_lit.user), waiting.id)
    core.pass_record(core.Actor(uni.dorm, "desk"), record(uni.form_cs2, "学生公寓").id)  # released
    day = f"{at(1, 0):%Y-%m-%d}"
    html = (
        office(uni)
        .get(
            f"/console/batches/{uni.batch.id}/appointments/{plan.step_id}/use/",
            {"from": day, "to": day},
        )
        .content.decode()
    )
    row = html[html.index("09:00–09:30") : html.index("</tr>", html.index("09:00–09:30"))]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:8]]
    # capacity, booked, arrived, served, no-show, cancelled, released
    assert cells == ["2", "1", "0", "0", "0", "0", "1"]
    row = html[html.index("10:00–10:30") : html.index("</tr>", html.index("10:00–10:30"))]
    assert [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:8]] == [
        "2",
        "0",
        "0",
        "0",
        "0",
        "1",
        "0",
    ]
    assert "共 94 个名额" in html  # 47 slots of 2 places (00:00 to 23:30)


def test_the_use_page_reads_a_fixed_number_of_queries(uni, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = make_plan(uni, capacity=40)
    client = office(uni)
    page = f"/console/batches/{uni.batch.id}/appointments/{plan.step_id}/use/"
    client.get(page)
    with CaptureQueriesContext(connection) as few:
        client.get(page)
    for i in range(10):
        other = f.enrolled(uni.batch, f"20226{i:05d}", f"学生{i}", uni.cs)
        services.book(
            student(other.student.user), record(other, "学生公寓").id, at(1 + i % 4, 8 + i)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(page)


def test_a_range_at_the_calendars_edge_is_read_as_the_default(uni):
    plan = make_plan(uni)
    page = f"/console/batches/{uni.batch.id}/appointments/{plan.step_id}/use/"
    for first, last in (("0001-01-01", "9999-12-31"), ("9999-12-31", "0001-01-01"), ("x", "")):
        assert office(uni).get(page, {"from": first, "to": last}).status_code == 200
