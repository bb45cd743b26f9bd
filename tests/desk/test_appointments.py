"""今日预约 at the desk: the day's slots with who booked (in scope only), check-in by button and by
scanning the 离校码, no-shows, the live counts, and the department's own settings page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lixiao.appointments import services
from lixiao.appointments.models import Booking, Plan
from lixiao.clearance import departure_code
from lixiao.clearance import services as core
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db


def book_today(form, hour=0, title="学生公寓"):
    """A booking for a slot of today, made just before it (services take the moment)."""
    return services.book(
        student(form.student.user),
        record(form, title).id,
        at(0, hour),
        now=at(0, hour) - timedelta(minutes=1),
    )


def test_the_day_lists_slots_and_who_booked(uni, as_user):
    make_plan(uni)
    book_today(uni.form)
    book_today(uni.form_lit)
    services.book(student(uni.student_cs2.user), record(uni.form_cs2, "学生公寓").id, at(1, 9))
    page = as_user(uni.dorm).get(desk_url(uni.batch, "appointments/"))
    html = page.content.decode()
    assert page.status_code == 200 and "今日预约" in html
    assert "00:00–00:30" in html and "已约 2 / 2" in html
    assert (
        "陈同学" in html and "林同学" in html and "周同学" not in html
    )  # tomorrow's is not today's
    tomorrow = as_user(uni.dorm).get(
        desk_url(uni.batch, "appointments/"), {"day": f"{at(1, 0):%Y-%m-%d}"}
    )
    assert "周同学" in tomorrow.content.decode()


def test_a_counselor_sees_only_their_students_bookings_but_the_slots_full_count(uni, as_user):
    make_plan(uni, title="院系离校")
    book_today(uni.form, title="院系离校")
    book_today(uni.form_lit, title="院系离校")
    html = as_user(uni.counselor_cs).get(desk_url(uni.batch, "appointments/")).content.decode()
    assert "陈同学" in html and "林同学" not in html
    assert "已约 2 / 2" in html  # the counter's places are shared by every college


def test_check_in_and_no_show_buttons_update_in_place(uni, as_user):
    make_plan(uni)
    booking = book_today(uni.form)
    client = as_user(uni.dorm)
    here = desk_url(uni.batch, "appointments/")
    part = client.post(f"{here}{booking.id}/check-in/", HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and part["HX-Trigger"] == "stats-changed"
    html = part.content.decode()
    assert "<html" not in html and "签到" in html and "已签到" in html
    booking.refresh_from_db()
    assert booking.status == "arrived"
    missed = book_today(uni.form_cs2)
    response = client.post(f"{here}{missed.id}/no-show/")
    assert response.status_code == 302
    missed.refresh_from_db()
    assert missed.status == "no_show"
    # Refused: a booking of tomorrow cannot be checked in today; the sentence says why.
    later = services.book(
        student(uni.student_lit.user), record(uni.form_lit, "学生公寓").id, at(1, 9)
    )
    refused = client.post(f"{here}{later.id}/check-in/", HTTP_HX_REQUEST="true")
    assert "不是今天" in refused.content.decode()


def test_outsiders_can_neither_see_nor_check_in(uni, as_user):
    make_plan(uni)
    booking = book_today(uni.form)
    here = desk_url(uni.batch, "appointments/")
    assert as_user(uni.outsider).get(here).status_code == 403
    assert as_user(uni.student.user).get(here).status_code == 403
    assert as_user(uni.library).post(f"{here}{booking.id}/check-in/").status_code == 404
    assert as_user(uni.counselor_lit).post(f"{here}{booking.id}/no-show/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == "booked"


def test_scanning_the_code_checks_the_student_in(uni, as_user):
    make_plan(uni)
    booking = book_today(uni.form)
    client = as_user(uni.dorm)
    response = client.get(f"/desk/code/{departure_code.make(uni.form.id)}/")
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "arrived"
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert "已签到：“学生公寓”预约 00:00–00:30" in page
    # Another step's handler scanning the same code checks in nothing of theirs.
    as_user(uni.library).get(f"/desk/code/{departure_code.make(uni.form_cs2.id)}/")
    assert not Booking.objects.filter(form=uni.form_cs2).exists()


def test_live_statistics_show_booked_versus_served(uni, as_user):
    make_plan(uni, capacity=5)
    first = book_today(uni.form)
    book_today(uni.form_cs2)
    book_today(uni.form_lit, hour=23)
    services.check_in(core.Actor(uni.dorm, "desk"), first.id)
    core.pass_record(core.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    html = as_user(uni.dorm).get(desk_url(uni.batch, "stats/")).content.decode()
    table = html[html.index("appointment-stats") :]
    row = table[table.index("<tr data-step") : table.index("</tr>", table.index("<tr data-step"))]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:]]
    # booked, arrived, served, no-show (00:00 ended unvisited; 23:00 still to come)
    ended = at(0, 23, 30) <= timezone.now()
    assert cells == ["3", "1", "1", "2" if ended else "1"]
    assert (
        "今日预约" not in as_user(uni.library).get(desk_url(uni.batch, "stats/")).content.decode()
    )


def test_the_batch_page_links_to_the_day_where_a_step_takes_or_may_take_appointments(uni, as_user):
    # The dormitory may open them (a whole-school grant on a manual step): the way to the settings.
    assert "appointments/" in as_user(uni.dorm).get(desk_url(uni.batch)).content.decode()
    # A counselor's college grant does not set a shared counter: nothing until the office opens one.
    assert "今日预约" not in as_user(uni.counselor_cs).get(desk_url(uni.batch)).content.decode()
    make_plan(uni, title="院系离校")
    assert "今日预约" in as_user(uni.counselor_cs).get(desk_url(uni.batch)).content.decode()
    # The library's step is automatic: nobody comes, nothing to book.
    assert "今日预约" not in as_user(uni.library).get(desk_url(uni.batch)).content.decode()
    page = as_user(uni.dorm).get(desk_url(uni.batch, "appointments/")).content.decode()
    assert "尚未开放预约" in page and "预约设置" in page


def test_the_department_sets_its_own_plan_a_counselor_may_not(uni, as_user):
    from lixiao.clearance.models import Step

    dorm = Step.objects.get(category=uni.category, title="学生公寓")
    page = desk_url(uni.batch, f"appointments/settings/{dorm.id}/")
    assert as_user(uni.dorm).get(page).status_code == 200
    form = {
        "enabled": "on",
        "slot_minutes": "20",
        "capacity": "4",
        "days_ahead": "5",
        "closed_dates": "",
        **{f"day{i}": "9:00-11:00, 14:00-16:00" for i in range(5)},
        "day5": "",
        "day6": "",
    }
    response = as_user(uni.dorm).post(page, form)
    assert response.status_code == 302
    plan = Plan.objects.get(step=dorm)
    assert (plan.slot_minutes, plan.capacity, plan.hours[0]) == (
        20,
        4,
        [["09:00", "11:00"], ["14:00", "16:00"]],
    )
    bad = as_user(uni.dorm).post(page, {**form, "day0": "9点到11点"})
    assert bad.status_code == 200 and "无法识别" in bad.content.decode()
    final = Step.objects.get(category=uni.category, title="院系离校")
    assert (
        as_user(uni.counselor_cs)
        .get(desk_url(uni.batch, f"appointments/settings/{final.id}/"))
        .status_code
        == 403
    )
    assert as_user(uni.library).get(page).status_code == 404  # not a step of theirs


def test_the_day_queries_do_not_grow_with_bookings(uni, as_user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories as f

    make_plan(uni, capacity=20)
    book_today(uni.form)
    client = as_user(uni.dorm)
    here = desk_url(uni.batch, "appointments/")
    client.get(here)
    with CaptureQueriesContext(connection) as few:
        client.get(here)
    for i in range(15):
        other = f.enrolled(uni.batch, f"20227{i:05d}", f"学生{i}", uni.cs if i % 2 else uni.lit)
        book_today(other, hour=i % 4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(here).content.decode()
    assert "学生14" in html
    with CaptureQueriesContext(connection) as stats_few:
        client.get(desk_url(uni.batch, "stats/"))
    book_today(f.enrolled(uni.batch, "2022799999", "又一名", uni.cs), hour=5)
    with django_assert_max_num_queries(len(stats_few.captured_queries)):
        client.get(desk_url(uni.batch, "stats/"))


def test_days_at_the_calendars_edge_fall_back_to_today(uni, as_user):
    make_plan(uni)
    for day in ("9999-12-31", "0001-01-01", "2026-02-30", "x"):
        page = as_user(uni.dorm).get(desk_url(uni.batch, "appointments/"), {"day": day})
        assert page.status_code == 200 and "今天" in page.content.decode(), day
