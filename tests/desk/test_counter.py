"""Counter mode (离校码): the student's short-lived code opens their form at a desk, in scope only."""

import time
from unittest import mock

import pytest
from django.test import Client

from lixiao.clearance import departure_code
from lixiao.clearance.models import State
from lixiao.desk.counter import token_in
from tests.conftest import record
from tests.desk.conftest import desk_url


def student_client(uni, student=None):
    client = Client()
    client.force_login((student or uni.student).user)
    return client


def test_student_shows_a_qr_code_linking_to_the_desk(uni):
    home = student_client(uni).get("/me/").content.decode()
    assert f"/me/code/{uni.form.id}/" in home  # 出示离校码 on an open, unfinished form
    page = student_client(uni).get(f"/me/code/{uni.form.id}/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and uni.student.student_number in html
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    scan_url = page.context["scan_url"]  # what the QR code encodes
    assert scan_url.startswith("http://testserver/desk/code/")
    assert departure_code.read(token_in(scan_url)) == uni.form.id


def test_another_students_code_page_is_not_found(uni):
    assert student_client(uni, uni.student_lit).get(f"/me/code/{uni.form.id}/").status_code == 404
    # and staff are not students
    client = Client()
    client.force_login(uni.dorm)
    assert client.get(f"/me/code/{uni.form.id}/").status_code == 403


def test_no_code_when_the_form_is_complete_or_the_window_closed(uni):
    from datetime import timedelta

    from django.utils import timezone

    uni.batch.opens_at = timezone.now() - timedelta(days=3)
    uni.batch.closes_at = timezone.now() - timedelta(minutes=1)
    uni.batch.save()
    page = student_client(uni).get(f"/me/code/{uni.form.id}/")
    assert page.status_code == 409 and "不在服务时间内" in page.content.decode()
    assert "<svg" not in page.content.decode()


def test_scanning_opens_the_form_at_my_pending_step(uni, as_user):
    token = departure_code.make(uni.form.id)
    response = as_user(uni.dorm).get(f"/desk/code/{token}/")
    dorm_record = record(uni.form, "学生公寓")
    assert response.status_code == 302
    assert (
        response["Location"]
        == desk_url(uni.batch, f"f/{uni.form.id}/") + f"#record-{dorm_record.id}"
    )
    page = as_user(uni.dorm).get(response["Location"].split("#")[0])
    assert page.status_code == 200 and f'id="record-{dorm_record.id}"' in page.content.decode()


def test_a_desk_scanner_typing_the_url_into_the_search_box_lands_there_too(uni, as_user):
    token = departure_code.make(uni.form.id)
    typed = f"https://lixiao.example.edu.cn/desk/code/{token}/"
    response = as_user(uni.counselor_cs).get(desk_url(uni.batch), {"q": typed})
    assert response.status_code == 302 and response["Location"] == f"/desk/code/{token}/"
    assert as_user(uni.counselor_cs).get(response["Location"]).status_code == 302


def test_a_code_outside_my_scope_is_refused_without_saying_who(uni, as_user):
    token = departure_code.make(uni.form.id)  # a CS student
    page = as_user(uni.counselor_lit).get(f"/desk/code/{token}/")
    assert page.status_code == 404 and "不在您的办理范围内" in page.content.decode()
    assert uni.student.name not in page.content.decode()
    page = as_user(uni.outsider).get(f"/desk/code/{token}/")
    assert page.status_code in (403, 404)
    assert uni.student.name not in page.content.decode()
    # a student cannot use the desk at all
    assert student_client(uni).get(f"/desk/code/{token}/").status_code == 403


def test_an_old_screenshot_has_expired(uni, as_user, settings):
    settings.LIXIAO_COUNTER_CODE_MINUTES = 10
    with mock.patch("time.time", return_value=time.time() - 11 * 60):
        token = departure_code.make(uni.form.id)
    page = as_user(uni.dorm).get(f"/desk/code/{token}/")
    assert page.status_code == 410 and "已过期" in page.content.decode()


@pytest.mark.parametrize("token", ["1.abc.def", "not-a-code", str(10**6)])
def test_a_forged_code_is_not_recognised(uni, as_user, token):
    page = as_user(uni.dorm).get(f"/desk/code/{token}/")
    assert page.status_code == 404 and "无法识别" in page.content.decode()


def test_a_genuine_code_for_a_removed_form_is_not_recognised(uni, as_user):
    token = departure_code.make(10**6)
    assert as_user(uni.office).get(f"/desk/code/{token}/").status_code == 404


def test_passing_after_the_scan_goes_through_the_writer(uni, as_user):
    token = departure_code.make(uni.form.id)
    client = as_user(uni.dorm)
    target = client.get(f"/desk/code/{token}/")["Location"]
    record_id = int(target.split("#record-")[1])
    client.post(desk_url(uni.batch, f"r/{record_id}/pass/"))
    assert record(uni.form, "学生公寓").state == State.PASSED


def test_anonymous_scanner_is_sent_to_login(uni):
    token = departure_code.make(uni.form.id)
    response = Client().get(f"/desk/code/{token}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().get(f"/me/code/{uni.form.id}/").status_code == 302


def test_no_code_for_a_complete_form(uni):
    from tests.portal.conftest import complete_form

    form = complete_form(uni)
    page = student_client(uni, form.student).get(f"/me/code/{form.id}/")
    assert page.status_code == 409 and "已全部办结" in page.content.decode()
    assert (
        f"/me/code/{form.id}/" not in student_client(uni, form.student).get("/me/").content.decode()
    )
