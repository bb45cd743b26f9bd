"""预约办理 on the student's side: the form page offers it, the booking page books, changes and
cancels (phone first), the page shows the booking at once, and nobody reaches another's."""

import pytest
from django.test import Client

from lixiao.appointments import services
from lixiao.appointments.models import Booking
from lixiao.clearance import services as core
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record

pytestmark = pytest.mark.django_db


def client_of(user, language=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client


def url(form, title="学生公寓") -> str:
    return f"/me/appointments/{record(form, title).id}/"


def step_html(html: str, title: str) -> str:
    start = html.index(f">{title}")
    return html[start : html.index("</li>", start)]


def test_the_form_page_offers_booking_on_a_pending_step_that_takes_appointments(uni):
    client = client_of(uni.student.user)
    assert "预约办理时间" not in client.get("/me/").content.decode()
    make_plan(uni)
    html = client.get("/me/").content.decode()  # the plan moved the category: not a stale page
    assert url(uni.form) in step_html(html, "学生公寓")
    assert "预约办理时间" not in step_html(html, "图书馆")
    core.pass_record(core.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    assert url(uni.form) not in client.get("/me/").content.decode()


def test_booking_from_the_page_shows_on_the_form_at_once(uni):
    make_plan(uni, capacity=1)
    client = client_of(uni.student.user)
    client.get("/me/")  # cached now
    page = client.get(url(uni.form), {"day": f"{at(1, 9):%Y-%m-%d}"})
    html = page.content.decode()
    assert page.status_code == 200 and "确认预约" in html
    tomorrow = f"{at(1, 9):%Y-%m-%dT%H:%M}"
    assert f'value="{tomorrow}"' in html
    response = client.post(url(uni.form), {"slot": tomorrow})
    assert response.status_code == 302 and response.url.endswith(
        f"#step-{record(uni.form, '学生公寓').id}"
    )
    home = client.get(response.url.split("#")[0]).content.decode()
    dorm = step_html(home, "学生公寓")
    assert "已预约" in dorm and f"{at(1, 9):%Y-%m-%d}" in dorm and "09:00–09:30" in dorm
    assert "改约或取消" in dorm
    booking = Booking.objects.get(form=uni.form)
    assert booking.slot.starts_at == at(1, 9)


def test_a_full_slot_is_shown_full_and_refused_with_a_sentence(uni):
    make_plan(uni, capacity=1)
    services.book(student(uni.student_cs2.user), record(uni.form_cs2, "学生公寓").id, at(1, 9))
    client = client_of(uni.student.user)
    slot = f"{at(1, 9):%Y-%m-%dT%H:%M}"
    html = client.get(url(uni.form), {"day": f"{at(1, 9):%Y-%m-%d}"}).content.decode()
    tile = html[html.index(f'value="{slot}"') - 120 : html.index(f'value="{slot}"') + 400]
    assert "disabled" in tile and "已约满" in tile
    refused = client.post(url(uni.form), {"slot": slot})
    assert refused.status_code == 409 and "该时段已约满" in refused.content.decode()
    bad = client.post(url(uni.form), {"slot": "tomorrow morning"})
    assert bad.status_code == 400 and "请选择一个时段" in bad.content.decode()
    assert not Booking.objects.filter(form=uni.form).exists()


def test_changing_and_cancelling_from_the_booking_page(uni):
    make_plan(uni)
    client = client_of(uni.student.user)
    client.post(url(uni.form), {"slot": f"{at(1, 9):%Y-%m-%dT%H:%M}"})
    page = client.get(url(uni.form)).content.decode()
    assert "我的预约" in page and "改约到所选时段" in page and "取消预约" in page
    client.post(url(uni.form), {"slot": f"{at(1, 10):%Y-%m-%dT%H:%M}"})
    current = Booking.objects.get(form=uni.form, status="booked")
    assert current.slot.starts_at == at(1, 10)
    response = client.post(f"/me/appointments/cancel/{current.id}/")
    assert response.status_code == 302
    current.refresh_from_db()
    assert current.status == "cancelled"
    home = client.get("/me/").content.decode()
    assert "已取消" in home and "预约办理时间" in step_html(home, "学生公寓")


def test_days_switch_in_place_with_htmx(uni):
    make_plan(uni)
    client = client_of(uni.student.user)
    day = f"{at(2, 9):%Y-%m-%d}"
    part = client.get(url(uni.form), {"day": day}, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert "<html" not in html and f'value="{day}T09:00"' in html
    assert 'aria-current="date"' in html


def test_nobody_reaches_another_students_booking(uni):
    make_plan(uni)
    mine = services.book(student(uni.student.user), record(uni.form, "学生公寓").id, at(1, 9))
    other = client_of(uni.student_lit.user)
    assert other.get(url(uni.form)).status_code == 404
    assert other.post(url(uni.form), {"slot": f"{at(1, 10):%Y-%m-%dT%H:%M}"}).status_code == 404
    assert other.post(f"/me/appointments/cancel/{mine.id}/").status_code == 404
    assert client_of(uni.dorm).get(url(uni.form)).status_code == 403
    assert Client().get(url(uni.form)).status_code == 302  # to the login page
    mine.refresh_from_db()
    assert mine.status == "booked" and Booking.objects.count() == 1


def test_the_counter_code_shows_the_booking(uni):
    make_plan(uni)
    services.book(student(uni.student.user), record(uni.form, "学生公寓").id, at(1, 9))
    html = client_of(uni.student.user).get(f"/me/code/{uni.form.id}/").content.decode()
    assert "学生公寓" in html and "09:00–09:30" in html and "已预约" in html


def test_the_booking_page_in_english(uni):
    make_plan(uni)
    html = client_of(uni.student.user, "en").get(url(uni.form)).content.decode()
    assert "Book" in html and "确认预约" not in html and "余" not in html


def test_the_booking_page_queries_do_not_grow_with_bookings(uni, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories as f

    make_plan(uni, capacity=50)
    client = client_of(uni.student.user)
    client.get(url(uni.form))
    with CaptureQueriesContext(connection) as few:
        client.get(url(uni.form))
    for i in range(12):
        other = f.enrolled(uni.batch, f"20228{i:05d}", f"学生{i}", uni.cs)
        services.book(
            student(other.student.user), record(other, "学生公寓").id, at(1 + i % 3, 9 + i % 5)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url(uni.form))


def test_my_own_data_download_holds_my_bookings_and_nobody_elses(uni):
    import io
    import json

    from python_calamine import CalamineWorkbook

    make_plan(uni)
    services.book(student(uni.student.user), record(uni.form, "学生公寓").id, at(1, 9))
    services.book(student(uni.student_lit.user), record(uni.form_lit, "学生公寓").id, at(1, 10))
    client = client_of(uni.student.user)
    data = json.loads(client.post("/me/account/data.json").content)
    (booking,) = data["appointments"]
    assert booking["step"] == "学生公寓" and booking["status"] == "已预约"
    assert booking["starts_at"].startswith(f"{at(1, 9):%Y-%m-%dT09:00}")
    book = CalamineWorkbook.from_filelike(io.BytesIO(client.post("/me/account/data.xlsx").content))
    rows = book.get_sheet_by_name("预约").to_python()
    assert len(rows) == 2 and rows[1][1] == "学生公寓" and rows[1][4] == "已预约"
