"""Objection services: submit (content-checked uploads), reply, confirm through the writer, dismiss."""

import pytest
from django.core.files.storage import default_storage

from lixiao.clearance import scope
from lixiao.clearance import services as clearance
from lixiao.clearance.models import Event, State
from lixiao.clearance.rules import Refused
from lixiao.notify.models import Notification
from lixiao.objections import services
from lixiao.objections.models import Objection
from tests.conftest import record
from tests.portal.conftest import PDF, PNG, upload

pytestmark = pytest.mark.django_db


def submit(uni, title="学生公寓", kind="done", message="钥匙已交给宿管阿姨", file=None, who=None):
    who = who or uni.student
    return services.submit(who.user, record(uni.form, title), kind, message, file)


def test_submit_stores_message_and_notifies_step_handlers(uni):
    objection = submit(uni, file=upload())
    assert objection.status == "open" and objection.step.title == "学生公寓"
    assert objection.attachment_type == "png"
    assert (
        objection.attachment.name.startswith("objections/")
        and "receipt" not in objection.attachment.name
    )
    assert default_storage.exists(objection.attachment.name)
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {"D4001"}  # the 学生公寓 handler; nobody else
    assert "陈同学" in Notification.objects.get().title


def test_college_step_notifies_only_the_students_college(uni):
    submit(uni, title="院系离校", kind="objection", message="辅导员说已经办好")
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"T1001"}


def test_pdf_accepted_by_content_whatever_the_name(uni):
    objection = submit(uni, file=upload(PDF, name="scan.jpg", content_type="image/jpeg"))
    assert objection.attachment_type == "pdf" and objection.attachment.name.endswith(".pdf")


@pytest.mark.parametrize("data", [b"<html><script>alert(1)</script>", b"MZ\x90\x00 exe", b""])
def test_other_content_is_refused_even_named_png(uni, data):
    with pytest.raises(Refused):
        submit(uni, file=upload(data, name="photo.png"))
    assert not Objection.objects.exists()


def test_size_cap(uni):
    with pytest.raises(Refused, match="5 MB"):
        submit(uni, file=upload(PNG + b"\x00" * services.MAX_BYTES))
    assert not Objection.objects.exists()


def test_not_required_step_and_another_students_record_are_refused(uni):
    with pytest.raises(Refused):
        services.submit(
            uni.student_cs2.user,
            record(uni.form_cs2, "组织关系转移"),
            "objection",
            "我不是党员",
            None,
        )
    with pytest.raises(services.NotFound):
        services.submit(uni.student_lit.user, record(uni.form, "学生公寓"), "objection", "x", None)
    assert not Objection.objects.exists()


def test_empty_message_and_done_on_passed_step_refused(uni):
    with pytest.raises(Refused):
        submit(uni, message="   ")
    clearance.pass_record(clearance.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    with pytest.raises(Refused):
        submit(uni, kind="done")
    assert submit(uni, kind="objection", message="我没有办理过").kind == "objection"


def test_reply_by_handler_notifies_student(uni):
    objection = submit(uni)
    services.reply(uni.dorm, objection, "请携带钥匙到公寓中心")
    objection.refresh_from_db()
    assert objection.status == "replied" and objection.handled_by == uni.dorm
    assert Notification.objects.filter(user=uni.student.user, body="请携带钥匙到公寓中心").exists()


def test_handler_outside_scope_cannot_touch(uni):
    objection = submit(uni, title="院系离校", kind="objection")
    for outsider in (uni.counselor_lit, uni.library, uni.outsider):
        with pytest.raises(services.NotFound):
            services.reply(outsider, objection, "x")
        with pytest.raises(services.NotFound):
            services.confirm(outsider, objection)
        with pytest.raises(services.NotFound):
            services.dismiss(outsider, objection, "x")
    objection.refresh_from_db()
    assert objection.status == "open" and objection.reply == ""


def test_confirm_passes_the_step_through_the_writer(uni):
    objection = submit(uni)
    services.confirm(uni.dorm, objection)
    objection.refresh_from_db()
    assert objection.status == "confirmed"
    assert record(uni.form, "学生公寓").state == State.PASSED
    event = Event.objects.get(record=record(uni.form, "学生公寓"), action="clearance.record.passed")
    assert event.source == "desk" and event.note == "已核实异议" and event.actor_id == uni.dorm.id
    with pytest.raises(Refused):
        services.dismiss(uni.dorm, objection, "晚了")


def test_confirm_refused_by_the_gate_changes_nothing(uni):
    objection = submit(uni, title="院系离校", kind="done", message="已办")
    with pytest.raises(Refused):
        services.confirm(uni.counselor_cs, objection)
    objection.refresh_from_db()
    assert objection.status == "open" and record(uni.form, "院系离校").state == State.PENDING


def test_dismiss_needs_a_reason(uni):
    objection = submit(uni)
    with pytest.raises(Refused):
        services.dismiss(uni.dorm, objection, " ")
    services.dismiss(uni.dorm, objection, "宿舍钥匙尚未交还")
    objection.refresh_from_db()
    assert objection.status == "dismissed" and objection.reply == "宿舍钥匙尚未交还"
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_handler_objections_is_scoped(uni):
    submit(uni, title="院系离校", kind="objection")
    cs = services.handler_objections(scope.reach(uni.counselor_cs, uni.batch.id))
    lit = services.handler_objections(scope.reach(uni.counselor_lit, uni.batch.id))
    assert cs.count() == 1 and lit.count() == 0
    dorm = services.handler_objections(scope.reach(uni.dorm, uni.batch.id))
    assert dorm.count() == 0  # another step's handler does not see it
