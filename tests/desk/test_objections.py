"""Students' messages on my steps: the unread count, reply, confirm (passes the step), dismiss."""

import pytest

from lixiao.clearance.models import State
from lixiao.objections import services
from lixiao.objections.models import Objection
from tests.conftest import record
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_(uni):
    dorm = services.submit(uni.student.user, record(uni.form, "学生公寓"), "done", "钥匙已交给宿管")
    lib = services.submit(uni.student.user, record(uni.form, "图书馆"), "objection", "书已还")
    return dorm, lib


def test_list_shows_only_my_steps_with_unread_count(uni, as_user, messages_):
    dorm, lib = messages_
    c = as_user(uni.dorm)
    page = c.get(desk_url(uni.batch, "objections/"))
    assert [o.id for o in page.context["items"]] == [dorm.id] and page.context["unread"] == 1
    assert "钥匙已交给宿管" in page.content.decode() and "书已还" not in page.content.decode()
    stats_panel = c.get(desk_url(uni.batch, "stats/")).content.decode()
    assert "1 条未读" in stats_panel  # the panel's badge is swapped into the page every 5 s


def test_reply_then_confirm_passes_the_step(uni, as_user, messages_):
    dorm, _ = messages_
    c = as_user(uni.dorm)
    c.post(desk_url(uni.batch, f"objections/{dorm.id}/reply/"), {"text": "请带上钥匙收据"})
    dorm.refresh_from_db()
    assert dorm.status == Objection.Status.REPLIED and dorm.reply == "请带上钥匙收据"
    assert c.get(desk_url(uni.batch, "objections/")).context["unread"] == 0
    page = c.post(desk_url(uni.batch, f"objections/{dorm.id}/confirm/"), follow=True)
    assert "已核实" in page.content.decode()
    dorm.refresh_from_db()
    assert dorm.status == Objection.Status.CONFIRMED
    assert record(uni.form, "学生公寓").state == State.PASSED


def test_dismiss_needs_a_reason(uni, as_user, messages_):
    dorm, _ = messages_
    c = as_user(uni.dorm)
    page = c.post(desk_url(uni.batch, f"objections/{dorm.id}/dismiss/"), {"text": ""}, follow=True)
    assert "请说明不予采纳的原因" in page.content.decode()
    c.post(desk_url(uni.batch, f"objections/{dorm.id}/dismiss/"), {"text": "宿管未收到钥匙"})
    dorm.refresh_from_db()
    assert dorm.status == Objection.Status.DISMISSED and dorm.reply == "宿管未收到钥匙"
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_other_handlers_cannot_touch_it(uni, as_user, messages_):
    dorm, _ = messages_
    for user in (uni.library, uni.counselor_lit):
        response = as_user(user).post(desk_url(uni.batch, f"objections/{dorm.id}/confirm/"))
        assert response.status_code == 404
    dorm.refresh_from_db()
    assert dorm.status == Objection.Status.OPEN
    assert record(uni.form, "学生公寓").state == State.PENDING
