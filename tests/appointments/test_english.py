"""Every appointment page in English (Accept-Language: en): no Chinese left but the data itself —
step, batch, college and student names. In Chinese by default."""

import re
from datetime import timedelta

import pytest
from django.utils import translation

from lixiao.appointments import services
from lixiao.clearance.models import Step
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import client_for, record
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3400-\u9fff]+")


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    yield
    translation.deactivate()


def chinese_left(html: str, data: list[str]) -> list[str]:
    """The Chinese words of a page that are not data (names stay as stored)."""
    for word in sorted(data, key=len, reverse=True):
        html = html.replace(word, "")
    # The language menu names each language in its own words.
    html = html.replace("简体中文", "")
    return CJK.findall(html)


@pytest.fixture
def scene(uni):
    plan = make_plan(uni)
    services.book(
        student(uni.student.user),
        record(uni.form, "学生公寓").id,
        at(0, 0),
        now=at(0, 0) - timedelta(minutes=1),
    )
    services.book(student(uni.student_cs2.user), record(uni.form_cs2, "学生公寓").id, at(1, 9))
    data = [
        uni.batch.name,
        uni.cs.name,
        uni.lit.name,
        uni.student.name,
        uni.student_cs2.name,
        uni.student_lit.name,
        *Step.objects.filter(category=uni.category).values_list("title", flat=True),
        "离校",  # the site's name in the header: Lixiao 离校
        *(u.name for u in (uni.dorm, uni.office)),
    ]
    return plan, data


def test_student_pages_in_english(uni, scene):
    plan, data = scene
    client = client_for(uni.student.user, "en")
    booking = client.get(f"/me/appointments/{record(uni.form_cs2, '学生公寓').id}/")
    assert booking.status_code == 404  # not theirs
    page = client.get(f"/me/appointments/{record(uni.form, '学生公寓').id}/").content.decode()
    assert "Book a time" in page and "Cancel appointment" in page
    assert chinese_left(page, data + ["归还所有图书", "交还宿舍钥匙"]) == []
    home = client.get("/me/").content.decode()
    assert "Booked:" in home
    code = client.get(f"/me/code/{uni.form.id}/").content.decode()
    assert "Booked" in code


def test_desk_pages_in_english(uni, scene):
    plan, data = scene
    client = client_for(uni.dorm, "en")
    for path in ("appointments/", "stats/", f"appointments/settings/{plan.step_id}/"):
        html = client.get(desk_url(uni.batch, path)).content.decode()
        assert chinese_left(html, data) == [], path
    today = client.get(desk_url(uni.batch, "appointments/")).content.decode()
    assert "Today's appointments" in today and "Check in" in today and "No-show" in today


def test_console_pages_in_english(uni, scene):
    plan, data = scene
    client = client_for(uni.office, "en")
    base = f"/console/batches/{uni.batch.id}/appointments/"
    for path in (base, f"{base}{plan.step_id}/", f"{base}{plan.step_id}/use/"):
        html = client.get(path).content.decode()
        assert chinese_left(html, data) == [], path
    assert "Use of slots" in client.get(base).content.decode()


def test_refusals_are_sentences_in_the_readers_language(uni, scene):
    client = client_for(uni.student_lit.user, "en")
    full_slot = f"{at(1, 9):%Y-%m-%dT%H:%M}"
    services.book(student(uni.student.user), record(uni.form, "学生公寓").id, at(1, 9))
    html = client.post(
        f"/me/appointments/{record(uni.form_lit, '学生公寓').id}/", {"slot": full_slot}
    ).content.decode()
    assert "This slot is full: choose another one" in html
    zh = client_for(uni.student_lit.user).post(
        f"/me/appointments/{record(uni.form_lit, '学生公寓').id}/", {"slot": full_slot}
    )
    assert "该时段已约满" in zh.content.decode()
