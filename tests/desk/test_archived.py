"""An archived batch through every door: a click, a bulk selection, an import, the API, an
objection's answer, an undo, a roster upload — each refused with the sentence saying why, and
nothing changes."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Event, Form, Record, Source, State, Step
from lixiao.objections import services as objections
from lixiao.objections.models import Objection
from tests.conftest import record
from tests.console.importing import roster_file, roster_row
from tests.desk.conftest import desk_url
from tests.desk.test_import import xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
ARCHIVED = "归档"


@pytest.fixture
def earlier(uni):
    """Work done while the batch was open: an objection and a bulk pass (an undoable group)."""
    message = objections.submit(uni.student.user, record(uni.form, "学生公寓"), "done", "钥匙已交")
    step = Step.objects.get(category=uni.category, title="图书馆")
    bulk = services.apply_many(
        services.Actor(uni.library, Source.BULK),
        uni.batch,
        step,
        [services.Item(uni.form.id, State.PASSED), services.Item(uni.form_lit.id, State.PASSED)],
    )
    now = timezone.now()
    Batch.objects.filter(pk=uni.batch.pk).update(
        opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )
    uni.batch.refresh_from_db()
    services.archive_batch(services.Actor(uni.office, Source.ADMIN), uni.batch)
    uni.batch.refresh_from_db()
    return {"objection": message, "group": bulk.group}


def unchanged(uni) -> list:
    return sorted(Record.objects.filter(form__batch=uni.batch).values_list("id", "state", "note"))


@pytest.mark.parametrize("who", ["dorm", "office"])
def test_a_click_is_refused_with_the_reason(uni, as_user, earlier, who):
    before = unchanged(uni)
    rec = record(uni.form, "学生公寓")
    client = as_user(getattr(uni, who))
    response = client.post(desk_url(uni.batch, f"r/{rec.id}/pass/"), HTTP_HX_REQUEST="true")
    assert ARCHIVED in response.content.decode() and "只读" in response.content.decode()
    assert unchanged(uni) == before


def test_a_bulk_selection_is_refused(uni, as_user, earlier):
    before = unchanged(uni)
    step = Step.objects.get(category=uni.category, title="学生公寓")
    response = as_user(uni.office).post(
        desk_url(uni.batch, "bulk/"),
        {"step": step.id, "action": "pass", "form": [uni.form.id, uni.form_lit.id]},
        follow=True,
    )
    assert ARCHIVED in response.content.decode()
    assert unchanged(uni) == before


def test_an_import_is_refused_at_the_preview(uni, as_user, earlier):
    step = Step.objects.get(category=uni.category, title="学生公寓")
    data = xlsx([["学号*", "结果*", "备注"], ["2022000001", "通过", ""]])
    response = as_user(uni.office).post(
        desk_url(uni.batch, "import/"),
        {"step": step.id, "file": SimpleUploadedFile("结果.xlsx", data)},
        follow=True,
    )
    assert ARCHIVED in response.content.decode()
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_the_api_answers_409_with_the_reason(uni, as_user, earlier):
    rec = record(uni.form, "学生公寓")
    response = as_user(uni.dorm).post(
        f"/api/v1/desk/records/{rec.id}/pass", json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 409 and ARCHIVED in response.json()["detail"]
    assert record(uni.form, "学生公寓").state == State.PENDING


@pytest.mark.parametrize("action", ["reply", "confirm", "dismiss"])
def test_an_objection_can_no_longer_be_answered(uni, as_user, earlier, action):
    objection = earlier["objection"]
    response = as_user(uni.dorm).post(
        desk_url(uni.batch, f"objections/{objection.id}/{action}/"),
        {"text": "好的", "reason": "不予采纳"},
        follow=True,
    )
    assert ARCHIVED in response.content.decode()
    fresh = Objection.objects.get(pk=objection.pk)
    assert (fresh.status, fresh.reply) == (Objection.Status.OPEN, "")
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_an_undo_is_refused_in_the_console(uni, office_client, earlier):
    response = office_client.post(
        reverse("console:audit_undo"), {"group": str(earlier["group"])}, follow=True
    )
    page = response.content.decode()
    assert "不能撤销" in page and ARCHIVED in page
    assert record(uni.form, "图书馆").state == State.PASSED
    assert not Event.objects.filter(action="clearance.group.undone").exists()


def test_a_roster_upload_is_refused(uni, office_client, earlier):
    data = roster_file([roster_row("2022000077", "新同学", "计算机与信息科学学院", seed=77)])
    response = office_client.post(
        reverse("console:roster", args=[uni.batch.id]),
        {"file": SimpleUploadedFile("名单.xlsx", data)},
        follow=True,
    )
    assert ARCHIVED in response.content.decode()
    assert Form.objects.filter(batch=uni.batch).count() == 3
