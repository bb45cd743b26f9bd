"""The audit log (Rule 7): append-only in the ORM and in the database; every change says who, how, why."""

import pytest
from django.db import DatabaseError, connection, transaction

from lixiao.clearance import services
from lixiao.clearance.models import Event, Step
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import Actor, Item
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(uni):
    rec = record(uni.form, "图书馆")
    services.pass_record(
        Actor(user=uni.library, source="desk", client_ip="10.1.2.3"), rec.id, note="已还清"
    )
    return Event.objects.get(record=rec)


def unchanged(event) -> bool:
    fresh = Event.objects.get(pk=event.pk)
    return (fresh.note, fresh.to_state, fresh.actor_id) == ("已还清", "passed", event.actor_id)


def test_orm_refuses_to_update_or_delete_an_event(event):
    event.note = "改掉"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert unchanged(event)


def test_database_refuses_bulk_update_and_delete_through_the_orm(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(note="改掉")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert unchanged(event)


def test_database_refuses_raw_update_and_delete(event):
    table = connection.ops.quote_name(Event._meta.db_table)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET note = %s WHERE id = %s", ["改掉", event.pk])  # noqa: S608
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    assert unchanged(event)
    assert Event.objects.count() >= 2  # the roster's and the pass's events are all still there


def test_a_desk_change_records_who_when_what_how_and_why(uni, event):
    rec = record(uni.form, "图书馆")
    assert event.actor == uni.library
    assert (event.action, event.source) == ("clearance.record.passed", "desk")
    assert (event.from_state, event.to_state) == ("pending", "passed")
    assert (event.client_ip, event.note) == ("10.1.2.3", "已还清")
    assert (event.batch, event.form, event.step, event.record) == (
        uni.batch,
        uni.form,
        rec.step,
        rec,
    )
    assert event.at == rec.handled_at


def test_bulk_and_cascade_events_keep_the_person_and_the_address(uni):
    f.pass_prerequisites(uni.form, uni.office)
    desk = Actor(user=uni.counselor_cs, source="desk", client_ip="10.9.9.9")
    services.pass_record(desk, record(uni.form, "院系离校").id)
    bulk = Actor(user=uni.library, source="bulk", client_ip="2001:db8::7")
    library = Step.objects.get(category=uni.category, title="图书馆")
    outcome = services.apply_many(
        bulk,
        uni.batch,
        library,
        [Item(uni.form.id, "pending", note="又借一本"), Item(uni.form_lit.id, "passed")],
    )
    revoked = Event.objects.get(group=outcome.group, action="clearance.record.revoked")
    assert (revoked.actor, revoked.source, revoked.client_ip, revoked.note) == (
        uni.library,
        "bulk",
        "2001:db8::7",
        "又借一本",
    )
    passed = Event.objects.get(group=outcome.group, action="clearance.record.passed")
    assert (passed.form, passed.actor, passed.note) == (uni.form_lit, uni.library, "")
    reopened = Event.objects.get(group=outcome.group, action="clearance.record.reopened")
    assert (reopened.actor, reopened.source, reopened.client_ip) == (
        uni.library,
        "cascade",
        "2001:db8::7",
    )
    assert (reopened.from_state, reopened.to_state) == ("passed", "pending")
    assert "图书馆" in reopened.note and "退回" in reopened.note
    summary = Event.objects.get(group=outcome.group, action="clearance.bulk.applied")
    assert (summary.actor, summary.client_ip, summary.data["changed"]) == (
        uni.library,
        "2001:db8::7",
        2,
    )


def test_sync_events_name_the_sync_and_no_person(uni):
    library = Step.objects.get(category=uni.category, title="图书馆")
    services.apply_many(
        Actor.system("sync"), uni.batch, library, [Item(uni.form.id, "passed", reason="已还清")]
    )
    event = Event.objects.get(action="clearance.record.passed")
    assert (event.actor, event.source, event.client_ip) == (None, "sync", None)


def test_a_refusal_is_logged_without_leaking_another_colleges_form(uni):
    desk = Actor(user=uni.counselor_cs, source="desk", client_ip="10.1.1.1")
    with pytest.raises(Refused):
        services.pass_record(desk, record(uni.form, "院系离校").id)
    gate = Event.objects.get(action="clearance.record.refused")
    assert (gate.actor, gate.form, gate.client_ip, gate.data["code"]) == (
        uni.counselor_cs,
        uni.form,
        "10.1.1.1",
        "gate",
    )
    assert "图书馆" in gate.note
    with pytest.raises(services.NotFound):
        services.pass_record(desk, record(uni.form_lit, "院系离校").id)
    scope = Event.objects.filter(action="clearance.record.refused").latest("id")
    assert scope.data["code"] == "scope" and scope.form is None


def test_history_reads_per_student_per_step_and_per_handler(uni):
    for title, user in [("图书馆", uni.library), ("财务处", uni.finance)]:
        services.pass_record(Actor(user=user, source="desk"), record(uni.form, title).id)
    services.pass_record(Actor(user=uni.library, source="desk"), record(uni.form_lit, "图书馆").id)
    changes = Event.objects.filter(action__startswith="clearance.record.")
    assert set(changes.filter(form=uni.form).values_list("step__title", flat=True)) == {
        "图书馆",
        "财务处",
    }
    assert set(changes.filter(step__title="图书馆").values_list("form_id", flat=True)) == {
        uni.form.id,
        uni.form_lit.id,
    }
    assert changes.filter(actor=uni.library).count() == 2
    assert changes.filter(actor=uni.finance).count() == 1
