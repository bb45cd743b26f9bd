"""The desk API: same scope and rules as the pages, session auth with CSRF, documented."""

import json

import pytest
from django.test import Client

from lixiao.clearance import services
from lixiao.clearance.models import State
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db
API = "/api/v1/desk"


def post(client, url, body=None, **extra):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **extra)


def test_batches_lists_mine_with_my_steps(uni, as_user):
    data = as_user(uni.dorm).get(f"{API}/batches").json()
    assert [b["name"] for b in data] == [uni.batch.name]
    assert [s["title"] for s in data[0]["steps"]] == ["学生公寓", "校友会登记"]
    assert as_user(uni.outsider).get(f"{API}/batches").status_code == 403  # no role, as the pages


def test_forms_search_is_scoped_and_paged(uni, as_user):
    data = (
        as_user(uni.counselor_cs).get(f"{API}/batches/{uni.batch.id}/forms", {"q": "2022"}).json()
    )
    assert data["count"] == 2 and [i["student_number"] for i in data["items"]] == [
        "2022000001",
        "2022000005",
    ]
    assert (
        data["items"][0]["id_number_masked"].startswith("500101")
        and "*" in data["items"][0]["id_number_masked"]
    )
    assert [r["step"] for r in data["items"][0]["records"]] == ["组织关系转移", "院系离校"]
    step = record(uni.form, "组织关系转移").step
    data = (
        as_user(uni.counselor_cs)
        .get(f"{API}/batches/{uni.batch.id}/forms", {f"s{step.id}": "pending"})
        .json()
    )
    assert data["count"] == 1
    assert as_user(uni.library).get(f"{API}/batches/{uni.batch.id + 99}/forms").status_code == 404


def test_form_detail_and_404_outside_scope(uni, as_user):
    c = as_user(uni.counselor_cs)
    data = c.get(f"{API}/forms/{uni.form.id}").json()
    assert len(data["records"]) == 6
    can = {r["step"] for r in data["records"] if r["can_handle"]}
    assert can == {"组织关系转移", "院系离校"}
    assert c.get(f"{API}/forms/{uni.form_lit.id}").status_code == 404


def test_pass_revoke_409_and_404(uni, as_user):
    c = as_user(uni.counselor_cs)
    final = record(uni.form, "院系离校")
    refused = post(c, f"{API}/records/{final.id}/pass", {"note": "x"})
    assert refused.status_code == 409 and "尚未通过" in refused.json()["detail"]
    party = record(uni.form, "组织关系转移")
    ok = post(c, f"{API}/records/{party.id}/pass", {"note": "已转出"})
    assert (
        ok.status_code == 200 and ok.json()["state"] == "passed" and ok.json()["note"] == "已转出"
    )
    party.refresh_from_db()
    assert party.source == "api"
    assert post(c, f"{API}/records/{party.id}/revoke").json()["state"] == "pending"
    other = record(uni.form_lit, "院系离校")
    assert post(c, f"{API}/records/{other.id}/pass").status_code == 404
    assert post(as_user(uni.library), f"{API}/records/{party.id}/pass").status_code == 404
    assert record(uni.form_lit, "院系离校").state == State.PENDING


def test_session_auth_needs_csrf_and_a_desk_role(uni, as_user):
    rec = record(uni.form, "学生公寓")
    browser = as_user(uni.dorm, enforce_csrf=True)
    assert post(browser, f"{API}/records/{rec.id}/pass").status_code == 403
    browser.get("/desk/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    assert post(browser, f"{API}/records/{rec.id}/pass", HTTP_X_CSRFTOKEN=token).status_code == 200
    assert Client().get(f"{API}/batches").status_code == 401
    assert as_user(uni.student.user).get(f"{API}/batches").status_code == 403


def test_documented_in_openapi(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/desk/batches",
        "/api/v1/desk/batches/{batch_id}/forms",
        "/api/v1/desk/forms/{form_id}",
        "/api/v1/desk/records/{record_id}/pass",
        "/api/v1/desk/records/{record_id}/revoke",
    ):
        assert path in paths
    responses = paths["/api/v1/desk/records/{record_id}/pass"]["post"]["responses"]
    assert {"200", "404", "409"} <= set(responses)
    assert "RecordOut" in schema["components"]["schemas"]


def test_office_can_handle_anything(uni, as_user):
    f.pass_prerequisites(uni.form_lit, uni.office)
    final = record(uni.form_lit, "院系离校")
    assert post(as_user(uni.office), f"{API}/records/{final.id}/pass").status_code == 200


def test_every_record_says_whether_it_is_required_final_and_applicable(uni, as_user):
    """A client tells the optional 校友会登记 from a required step without a second call."""
    c = as_user(uni.office)
    flags = {
        r["step"]: (r["required"], r["is_final"], r["applicable"])
        for r in c.get(f"{API}/forms/{uni.form_cs2.id}").json()["records"]
    }
    assert flags["校友会登记"] == (False, False, True)
    assert flags["院系离校"] == (True, True, True)
    assert flags["图书馆"] == (True, False, True)
    assert flags["组织关系转移"] == (True, False, False)  # 群众: 无需办理
    found = c.get(f"{API}/batches/{uni.batch.id}/forms", {"q": "2022000001"}).json()
    party = next(r for r in found["items"][0]["records"] if r["step"] == "组织关系转移")
    assert (party["required"], party["is_final"], party["applicable"]) == (True, False, True)
    # The answer to a pass carries them too.
    alumni = record(uni.form, "校友会登记")
    done = post(as_user(uni.dorm), f"{API}/records/{alumni.id}/pass").json()
    assert (done["state"], done["required"], done["applicable"]) == ("passed", False, True)
    schema = c.get("/api/v1/openapi.json").json()["components"]["schemas"]["RecordOut"]
    assert {"required", "is_final", "applicable"} <= set(schema["required"])
    assert "选办" in schema["properties"]["required"]["description"]


def test_a_pass_answers_the_state_its_own_transaction_left(uni, as_user, monkeypatch):
    """Another writer's revoke, landing between our commit and our answer, must not show in it."""
    rec = record(uni.form, "学生公寓")
    office = services.Actor(user=uni.office, source="admin")
    real = services.set_state

    def then_another_writer(actor, record_id, to_state, note=""):
        outcome = real(actor, record_id, to_state, note)
        services.revoke_record(office, record_id, "另一处撤销")  # committed right after ours
        return outcome

    monkeypatch.setattr(services, "set_state", then_another_writer)
    answer = post(as_user(uni.dorm), f"{API}/records/{rec.id}/pass", {"note": "已退宿"})
    assert answer.status_code == 200
    assert answer.json()["state"] == "passed" and answer.json()["note"] == "已退宿"
    rec.refresh_from_db()
    assert rec.state == "pending" and rec.note == "另一处撤销"  # the later writer did land
