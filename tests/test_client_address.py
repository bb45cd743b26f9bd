"""Behind the reverse proxy every audit names the client (accounts.network.client_ip), never the proxy."""

import pytest
from django.test import Client
from django.urls import reverse

from lixiao.clearance.models import Event, Step
from lixiao.demo import survey as demo_survey
from lixiao.integrations.models import IntegrationSource
from tests.conftest import record
from tests.console.importing import roster_file, roster_row, upload, xlsx

pytestmark = pytest.mark.django_db
PROXY = "127.0.0.1"
CLIENT = "10.8.0.15"


@pytest.fixture
def behind_proxy(settings, media, tasks_now):
    settings.LIXIAO_PROXY_COUNT = 1


def through_proxy(user) -> Client:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"203.0.113.9, {CLIENT}")
    client.force_login(user)
    return client


def addresses(**filters) -> set:
    events = Event.objects.filter(**filters)
    assert events.exists(), filters
    return set(events.values_list("client_ip", flat=True))


def test_integration_source_pages(uni, behind_proxy):
    assert IntegrationSource.objects.filter(code="finance").exists()  # the uni's source 1
    office = through_proxy(uni.office)
    office.post("/integrations/finance/token/", {"action": "rotate"})
    office.post("/integrations/finance/token/", {"action": "revoke"})
    assert addresses(action__startswith="integrations.token.") == {CLIENT}


def test_roster_and_master_data_imports(uni, behind_proxy):
    office = through_proxy(uni.office)
    office.post(
        reverse("console:roster", args=[uni.batch.id]),
        {"file": upload(roster_file([roster_row("2026200001", "甲", "CS", 201)]), "r.xlsx")},
    )
    job = _latest("console.roster")
    office.post(reverse("console:roster_confirm", args=[uni.batch.id, job.id]))
    assert addresses(action="roster.imported") == {CLIENT}
    # The uni fixture enrolled its students without a request; the import's enrolment is newer.
    enrolled = Event.objects.filter(action="roster.enrolled").latest("id")
    assert (enrolled.data["forms"], enrolled.client_ip) == (1, CLIENT)
    office.post(
        reverse("console:masterdata_import", args=["colleges"]),
        {"file": upload(xlsx([["院系代码*", "院系名称*"], ["ART", "美术学院"]]), "c.xlsx")},
    )
    job = _latest("console.colleges")
    office.post(reverse("console:masterdata_confirm", args=["colleges", job.id]))
    assert addresses(action="console.colleges.imported") == {CLIENT}


def test_a_survey_that_passes_a_step(uni, behind_proxy):
    questions = demo_survey.create(uni.category)
    Step.objects.filter(category=uni.category, title="校友会登记").update(survey_bound=True)
    student = through_proxy(uni.student.user)
    answers = {f"q{q.id}": q.choices[:1] if q.kind == "multiple" else "" for q in questions}
    answers.update({f"q{q.id}": q.choices[0] for q in questions if q.kind == "single"})
    assert student.post(f"/me/survey/{uni.form.id}/", answers).status_code == 302
    assert addresses(record=record(uni.form, "校友会登记"), source="survey") == {CLIENT}


def test_desk_and_api_changes(uni, behind_proxy):
    through_proxy(uni.dorm).post(
        f"/desk/b/{uni.batch.id}/r/{record(uni.form, '学生公寓').id}/pass/"
    )
    through_proxy(uni.dorm).post(
        f"/api/v1/desk/records/{record(uni.form, '校友会登记').id}/pass",
        "{}",
        content_type="application/json",
    )
    assert addresses(action="clearance.record.passed", source="desk") == {CLIENT}
    assert addresses(action="clearance.record.passed", source="api") == {CLIENT}


def _latest(kind: str):
    from lixiao.tabular.models import ImportJob

    return ImportJob.objects.filter(kind=kind).latest("id")
