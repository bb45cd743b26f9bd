"""预约办理 over REST: the desk reads slots and bookings in scope and checks in; the student reads
their own; malformed input gets 4xx; the schema declares every answer."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from lixiao.appointments import services
from lixiao.appointments.models import Booking
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record

pytestmark = pytest.mark.django_db
DESK = "/api/v1/desk"
ME = "/api/v1/me"


def login(user, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def post(client, url):
    """A POST as an API client sends it: JSON, here with no body at all."""
    return client.post(url, content_type="application/json")


def book_today(form):
    return services.book(
        student(form.student.user),
        record(form, "学生公寓").id,
        at(0, 0),
        now=at(0, 0) - timedelta(minutes=1),
    )


@pytest.fixture
def plan(uni):
    return make_plan(uni)


def test_the_desk_reads_its_plans_slots_and_bookings(uni, plan):
    book_today(uni.form)
    book_today(uni.form_lit)
    c = login(uni.dorm)
    plans = c.get(f"{DESK}/batches/{uni.batch.id}/appointments").json()
    assert [p["step"] for p in plans] == ["学生公寓"]
    assert plans[0]["capacity"] == 2 and plans[0]["hours"][0] == ["0:00-23:30"]
    slots = c.get(f"{DESK}/batches/{uni.batch.id}/appointments/{plan.step_id}/slots").json()
    assert len(slots) == 47 and slots[0]["booked"] == 2 and slots[0]["free"] == 0
    bookings = c.get(f"{DESK}/batches/{uni.batch.id}/appointments/{plan.step_id}/bookings").json()
    assert {b["student_number"] for b in bookings} == {"2022000001", "2022000003"}
    assert bookings[0]["status"] == "booked" and bookings[0]["status_label"] == "已预约"
    tomorrow = f"{at(1, 0):%Y-%m-%d}"
    assert (
        c.get(
            f"{DESK}/batches/{uni.batch.id}/appointments/{plan.step_id}/bookings", {"day": tomorrow}
        ).json()
        == []
    )


def test_the_desk_api_keeps_to_the_gate(uni, plan):
    book_today(uni.form)
    book_today(uni.form_lit)
    make_plan(uni, title="院系离校")
    final = record(uni.form, "院系离校").step_id
    bookings = login(uni.counselor_cs).get(
        f"{DESK}/batches/{uni.batch.id}/appointments/{final}/bookings"
    )
    assert bookings.status_code == 200 and bookings.json() == []  # nobody booked 院系离校 yet
    assert (
        login(uni.library)
        .get(f"{DESK}/batches/{uni.batch.id}/appointments/{plan.step_id}/slots")
        .status_code
        == 404
    )
    assert login(uni.outsider).get(f"{DESK}/batches/{uni.batch.id}/appointments").status_code == 403
    assert (
        login(uni.student.user).get(f"{DESK}/batches/{uni.batch.id}/appointments").status_code
        == 403
    )
    assert Client().get(f"{DESK}/batches/{uni.batch.id}/appointments").status_code == 401


def test_check_in_and_no_show(uni, plan):
    booking = book_today(uni.form)
    c = login(uni.dorm, csrf=True)
    refused = post(c, f"{DESK}/bookings/{booking.id}/check-in")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    c = login(uni.dorm)
    done = post(c, f"{DESK}/bookings/{booking.id}/check-in")
    assert (
        done.status_code == 200 and done.json()["status"] == "arrived" and done.json()["arrived_at"]
    )
    refused = post(c, f"{DESK}/bookings/{booking.id}/no-show")
    assert refused.status_code == 409 and "已签到" in refused.json()["detail"]
    assert refused.json()["refusal"] == "closed"
    assert post(login(uni.library), f"{DESK}/bookings/{booking.id}/check-in").status_code == 404
    assert post(c, f"{DESK}/bookings/999999/no-show").status_code == 404
    other = book_today(uni.form_cs2)
    answer = c.post(f"{DESK}/bookings/{other.id}/no-show", {}, content_type="application/json")
    assert answer.json()["status"] == "no_show"
    extra = c.post(f"{DESK}/bookings/{other.id}/no-show", {"x": 1}, content_type="application/json")
    assert extra.status_code == 422  # nothing is taken in a body


def test_the_student_reads_their_own_bookings_and_free_places(uni, plan):
    services.book(student(uni.student.user), record(uni.form, "学生公寓").id, at(1, 9))
    services.book(student(uni.student_lit.user), record(uni.form_lit, "学生公寓").id, at(1, 9))
    c = login(uni.student.user)
    mine = c.get(f"{ME}/bookings").json()
    assert len(mine) == 1 and mine[0]["step"] == "学生公寓" and mine[0]["status"] == "booked"
    days = c.get(f"{ME}/records/{record(uni.form, '学生公寓').id}/slots").json()
    tomorrow = next(d for d in days if d["day"] == f"{at(1, 0):%Y-%m-%d}")
    nine = next(
        s for s in tomorrow["slots"] if s["starts_at"].startswith(f"{at(1, 9):%Y-%m-%dT%H:%M}")
    )
    assert nine["free"] == 0 and nine["mine"] is True
    assert c.get(f"{ME}/records/{record(uni.form_lit, '学生公寓').id}/slots").status_code == 404
    assert c.get(f"{ME}/records/{record(uni.form, '图书馆').id}/slots").json() == []  # no plan
    assert login(uni.dorm).get(f"{ME}/bookings").status_code == 403
    assert Client().get(f"{ME}/bookings").status_code == 401
    # Read-only: there is no way to book or cancel through the student's API.
    assert post(c, f"{ME}/bookings").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/batches/abc/appointments",
        "/batches/1/appointments/x/slots",
        "/batches/1/appointments/1/slots?day=tomorrow",
        "/batches/1/appointments/1/bookings?day=2026-02-30",
        "/batches/1/appointments/1/slots?day=9999-12-31",  # the calendar's edge: no overflow
        "/batches/1/appointments/1/bookings?day=0001-01-01",
        "/bookings/abc/check-in",
    ],
)
def test_malformed_input_gets_a_4xx(uni, plan, path):
    c = login(uni.dorm)
    response = post(c, f"{DESK}{path}") if path.endswith("check-in") else c.get(f"{DESK}{path}")
    assert 400 <= response.status_code < 500, response.status_code
    assert "detail" in response.json()


def test_the_schema_declares_every_operation_and_its_answers():
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path, method, codes in [
        (f"{DESK}/batches/{{batch_id}}/appointments", "get", {"200", "401", "403", "404", "422"}),
        (
            f"{DESK}/batches/{{batch_id}}/appointments/{{step_id}}/slots",
            "get",
            {"200", "404", "422"},
        ),
        (f"{DESK}/batches/{{batch_id}}/appointments/{{step_id}}/bookings", "get", {"200", "404"}),
        (f"{DESK}/bookings/{{booking_id}}/check-in", "post", {"200", "404", "409", "422"}),
        (f"{DESK}/bookings/{{booking_id}}/no-show", "post", {"200", "404", "409"}),
        (f"{ME}/bookings", "get", {"200", "401", "403"}),
        (f"{ME}/records/{{record_id}}/slots", "get", {"200", "404"}),
    ]:
        declared = set(paths[path][method]["responses"])
        assert codes <= declared, (path, declared)
    booking = schema["components"]["schemas"]["BookingOut"]
    assert booking["properties"]["status"]["enum"] == [
        "booked",
        "arrived",
        "served",
        "no_show",
        "cancelled",
        "released",
    ]
    assert json.dumps(schema, ensure_ascii=False).count("预约") > 5
    assert not Booking.objects.exists()
