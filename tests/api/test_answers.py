"""What each refusal tells a client: the code to branch on, the fields to read, the headers to obey."""

import json

import pytest
from django.test import Client

from lixiao.clearance.models import Event, State
from lixiao.integrations.models import SourceRow
from tests.api.conftest import FINANCE_TOKEN
from tests.conftest import client_for, record

pytestmark = pytest.mark.django_db
DESK = "/api/v1/desk"
PUSH = "/api/v1/sources/finance/rows"


def post(client, url, body=None, **extra):
    data = b"" if body is None else json.dumps(body)
    return client.post(url, data, content_type="application/json" if data else "", **extra)


def push(client, body, **extra):
    return client.post(
        PUSH,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {FINANCE_TOKEN}",
        **extra,
    )


def test_a_pass_needs_no_body_and_stores_no_note(uni):
    party = record(uni.form, "组织关系转移")
    response = post(client_for(uni.counselor_cs), f"{DESK}/records/{party.id}/pass")
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["note"]) == ("passed", "")


def test_a_note_over_255_characters_is_refused_not_cut(uni):
    party = record(uni.form, "组织关系转移")
    c = client_for(uni.counselor_cs)  # the login is audited: count after it
    events = Event.objects.count()
    response = post(c, f"{DESK}/records/{party.id}/pass", {"note": "备" * 256})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "note"], "msg": "最多 255 个字符", "type": "string_too_long"}
    ]
    assert response.json()["detail"] == "请求有误：请求体字段 note：最多 255 个字符"
    assert record(uni.form, "组织关系转移").state == State.PENDING
    assert Event.objects.count() == events


def test_a_rule_refusal_is_409_naming_the_rule(uni):
    final = record(uni.form, "院系离校")
    response = post(client_for(uni.counselor_cs), f"{DESK}/records/{final.id}/pass", {})
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["refusal"]) == ("refused", "gate")
    assert "尚未通过" in body["detail"]


def test_outside_the_scope_is_the_same_404_as_nothing_at_all(uni):
    other = record(uni.form_lit, "院系离校")
    c = client_for(uni.counselor_cs)
    outside = post(c, f"{DESK}/records/{other.id}/pass").json()
    nowhere = post(c, f"{DESK}/records/99999999/pass").json()
    assert (
        outside
        == nowhere
        == {
            "detail": "未找到：该对象不存在，或不在您的办理范围内",
            "code": "not_found",
        }
    )


def test_no_desk_role_is_403_and_a_missing_csrf_token_says_how_to_send_it(uni):
    denied = client_for(uni.student.user).get(f"{DESK}/batches")
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(uni.dorm)
    rec = record(uni.form, "学生公寓")
    missing = post(browser, f"{DESK}/records/{rec.id}/pass")
    assert missing.status_code == 403
    assert missing.json()["code"] == "csrf_failed" and "X-CSRFToken" in missing.json()["detail"]
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_search_filters_are_checked(uni):
    c = client_for(uni.counselor_cs)
    url = f"{DESK}/batches/{uni.batch.id}/forms"
    party = c.get(url, {"political_status": "中共党员"}).json()
    assert [i["student_number"] for i in party["items"]] == ["2022000001"]
    # A college outside the reach means "any", as on the page; a value of the wrong kind is a 422.
    assert c.get(url, {"college": uni.lit.id}).json()["count"] == 2
    for query in ({"completed": "maybe"}, {"college": "文学院"}, {"page": "0"}, {"q": "1" * 65}):
        response = c.get(url, query)
        assert response.status_code == 422, query
        assert response.json()["errors"][0]["loc"] == ["query", next(iter(query))]


@pytest.fixture
def finance(credentials):
    return credentials  # sets the finance token


def test_push_refusals_carry_their_codes(uni, finance, client, settings):
    shape = push(client, {"rows": "x"})
    assert shape.status_code == 422 and shape.json()["code"] == "invalid"
    assert shape.json()["errors"][0]["loc"] == ["body", "rows"]
    rows = push(client, {"rows": [{"student_number": "2022000001", "cleared": "yes"}]})
    assert rows.json()["code"] == "invalid_rows" and rows.json()["errors"][0]["row"] == 1
    rows = [{"student_number": str(n), "cleared": True} for n in range(10_001)]
    many = push(client, {"rows": rows})
    assert (many.status_code, many.json()["code"]) == (413, "too_many_rows")
    assert not SourceRow.objects.exists()


def test_an_empty_object_is_not_a_reason(uni, finance, client):
    """Only text (or nothing) is a reason: {} or 0 used to pass as "no reason"."""
    for reason in ({}, [], 0, False):
        row = {"student_number": "2022000001", "cleared": False, "reason": reason}
        response = push(client, {"rows": [row]})
        assert response.status_code == 422 and "reason" in response.json()["errors"][0]["reason"]
    assert not SourceRow.objects.exists()


def test_a_wrong_token_says_bearer_and_the_rate_limit_says_when_to_retry(
    uni, finance, client, settings
):
    wrong = client.post(
        PUSH, "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")
    assert wrong.json()["code"] == "not_authenticated"
    settings.LIXIAO_PUSH_PER_MINUTE = 1
    row = {"student_number": "2022000001", "cleared": True}
    assert push(client, {"rows": [row]}).status_code == 200
    limited = push(client, {"rows": [row]})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
