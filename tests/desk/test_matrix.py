"""Rule 4 on every desk endpoint: role × action, and nothing changes when refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lixiao.clearance.models import Event, Record
from lixiao.objections import services as objections
from lixiao.objections.models import Objection
from lixiao.tabular import jobs
from tests import factories as f
from tests.conftest import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
OK = "ok"  # 200, or a redirect that is not to the login page

# name → (method, path under /desk/b/{b}/, data); {rec} is the dorm step on a CS student's form,
# {final} that form's 院系离校, {form} the CS student's form, {obj} a message on {rec}, {job} an import.
ENDPOINTS = {
    "search": ("get", "", {}),
    "search_id": ("post", "", {"q": "500101200102110013"}),
    "export": ("get", "export.xlsx", {}),
    "stats": ("get", "stats/", {}),
    "recent": ("get", "recent/", {}),
    "detail": ("get", "f/{form}/", {}),
    "pass": ("post", "r/{rec}/pass/", {}),
    "revoke": ("post", "r/{rec}/revoke/", {}),
    "pass_final": ("post", "r/{final}/pass/", {}),
    "bulk": ("post", "bulk/", {"step": "{step}", "action": "pass", "form": "{form}"}),
    "import_page": ("get", "import/", {}),
    "import_template": ("get", "import/template.xlsx", {}),
    "import_upload": ("post", "import/", {"step": "{step}"}),
    "import_preview": ("get", "import/{job}/", {}),
    "import_confirm": ("post", "import/{job}/confirm/", {}),
    "objections": ("get", "objections/", {}),
    "objection_reply": ("post", "objections/{obj}/reply/", {"text": "请带收据"}),
    "objection_confirm": ("post", "objections/{obj}/confirm/", {}),
    "objection_dismiss": ("post", "objections/{obj}/dismiss/", {"text": "未收到"}),
}
ALL = set(ENDPOINTS)
# Per persona: the expected answer for each endpoint (default for those not listed).
EXPECTED = {
    "anonymous": {"*": "login"},
    "student": {"*": 403},
    "no_grant_here": {"*": 403},  # a handler of another batch only
    "other_department": {  # library: may read whole forms, may not change the dormitory step
        "*": OK,
        "pass": 404,
        "revoke": 404,
        "bulk": 404,
        "import_upload": 404,
        "import_preview": 404,
        "import_confirm": 404,
        "objection_reply": 404,
        "objection_confirm": 404,
        "objection_dismiss": 404,
        "pass_final": 404,
    },
    "other_college": {  # counselor of 文学院: the CS student does not exist for them
        "*": OK,
        "detail": 404,
        "pass": 404,
        "revoke": 404,
        "pass_final": 404,
        "bulk": 404,
        "import_upload": 404,
        "import_preview": 404,
        "import_confirm": 404,
        "objection_reply": 404,
        "objection_confirm": 404,
        "objection_dismiss": 404,
    },
    "granted": {"*": OK, "pass_final": 404},  # dorm: 院系离校 is not theirs
    "office": {"*": OK},
}


def persona(uni, name):
    if name == "anonymous":
        return None
    if name == "no_grant_here":
        other = f.batch(uni.category, name="2026届第二批")
        f.grant(other, "图书馆", uni.outsider)
        return uni.outsider
    return {
        "student": uni.student.user,
        "other_department": uni.library,
        "other_college": uni.counselor_lit,
        "granted": uni.dorm,
        "office": uni.office,
    }[name]


def snapshot():
    return (
        sorted(Record.objects.values_list("id", "state", "note")),
        sorted(Objection.objects.values_list("id", "status", "reply")),
        Event.objects.filter(action__startswith="clearance.record.")
        .exclude(action="clearance.record.refused")
        .count(),
    )


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("endpoint", sorted(ALL))
def test_role_action_matrix(uni, who, endpoint):
    user = persona(uni, who)
    rec = record(uni.form, "学生公寓")
    obj = objections.submit(uni.student.user, rec, "done", "钥匙已交")
    owner = user if who in ("granted", "office") else uni.dorm
    job = jobs.preview(
        "desk.records",
        owner,
        "r.csv",
        "学号,结果\n2022000001,通过\n".encode(),
        {"batch": uni.batch.id, "step": rec.step_id},
    )
    values = {
        "b": uni.batch.id,
        "rec": rec.id,
        "final": record(uni.form, "院系离校").id,
        "form": uni.form.id,
        "obj": obj.id,
        "job": job.id,
        "step": rec.step_id,
    }
    method, tail, data = ENDPOINTS[endpoint]
    url = f"/desk/b/{uni.batch.id}/" + tail.format(**values)
    data = {k: v.format(**values) for k, v in data.items()}
    if endpoint == "import_upload":
        data["file"] = SimpleUploadedFile("r.csv", "学号,结果\n2022000001,通过\n".encode())
    client = Client()
    if user is not None:
        client.force_login(user)
    expected = EXPECTED[who].get(endpoint, EXPECTED[who]["*"])
    before = snapshot()
    response = getattr(client, method)(url, data)
    if expected == "login":
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    elif expected == OK:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert not response.url.startswith("/accounts/login/")
    else:
        assert response.status_code == expected
    if expected != OK:
        assert snapshot() == before, "a refused request changed something"


@pytest.mark.parametrize("who", ["anonymous", "student", "other_department"])
def test_home(uni, who):
    user = persona(uni, who)
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get("/desk/")
    expected = {"anonymous": 302, "student": 403, "other_department": 200}[who]
    assert response.status_code == expected
