"""A batch's lifecycle in the core: the office ends and archives it; an archived batch's forms are
read-only for everyone — the office, syncs, imports, undo, surveys, rosters — with a sentence
saying why; category changes leave archived forms as they were."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import (
    Batch,
    BatchArchive,
    DailyStepTally,
    Event,
    Form,
    Record,
    Source,
    State,
    Step,
)
from lixiao.clearance.services import Actor, Item
from lixiao.survey.models import Question, Response
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


def office(uni) -> Actor:
    return Actor(user=uni.office, source=Source.ADMIN, client_ip="10.1.2.3")


def close_window(batch: Batch) -> None:
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )
    batch.refresh_from_db()


@pytest.fixture
def archived(uni):
    """The personas' batch with some work done, ended yesterday and archived by the office."""
    services.pass_record(office(uni), record(uni.form, "图书馆").id, note="已还清")
    close_window(uni.batch)
    services.archive_batch(office(uni), uni.batch)
    uni.batch.refresh_from_db()
    return uni.batch


def snapshot(batch) -> list:
    """Everything the writer could touch on the batch's forms."""
    return [
        sorted(Record.objects.filter(form__batch=batch).values_list("id", "state", "note")),
        sorted(Form.objects.filter(batch=batch).values_list("id", "completed_at", "counselor_id")),
        queries.tallies(batch),
    ]


def test_only_the_office_archives(uni):
    close_window(uni.batch)
    with pytest.raises(services.Forbidden):
        services.archive_batch(Actor(user=uni.library, source="desk"), uni.batch)
    uni.batch.refresh_from_db()
    assert uni.batch.archived_at is None
    assert not BatchArchive.objects.exists()


def test_a_batch_still_open_is_ended_first(uni):
    with pytest.raises(services.Refused, match="请先结束办理，再归档") as refused:
        services.archive_batch(office(uni), uni.batch)
    assert refused.value.code == "window_open"
    assert Batch.objects.get(pk=uni.batch.pk).archived_at is None

    services.close_batch(office(uni), uni.batch)
    batch = Batch.objects.get(pk=uni.batch.pk)
    assert batch.window_state() == "closed" and batch.lifecycle() == "closed"
    event = Event.objects.get(action="console.batch.closed")
    assert event.actor == uni.office and event.batch_id == batch.id
    assert "closes_at" in event.data["changes"]
    # A handler is now refused by the window, the office may still correct.
    with pytest.raises(services.Closed, match="结束办理"):
        services.pass_record(Actor(user=uni.library, source="desk"), record(uni.form, "图书馆").id)
    services.pass_record(office(uni), record(uni.form, "图书馆").id)


def test_a_batch_not_yet_open_cannot_be_ended(uni):
    Batch.objects.filter(pk=uni.batch.pk).update(
        opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=9)
    )
    uni.batch.refresh_from_db()
    with pytest.raises(services.Refused, match="尚未开始办理") as refused:
        services.close_batch(office(uni), uni.batch)
    assert refused.value.code == "not_yet"


def test_archiving_is_audited_and_queues_the_export(uni, settings):
    settings.LIXIAO_RETENTION_YEARS = 3
    close_window(uni.batch)
    archive = services.archive_batch(office(uni), uni.batch)
    batch = Batch.objects.get(pk=uni.batch.pk)
    assert batch.lifecycle() == "archived" and batch.archived_by == uni.office
    assert archive.status == BatchArchive.Status.QUEUED and archive.requested_by == uni.office
    event = Event.objects.get(action="clearance.batch.archived")
    assert event.batch_id == batch.id and event.client_ip == "10.1.2.3"
    assert event.data["forms"] == 3 and event.data["retention_years"] == 3
    due = timezone.localtime(batch.archived_at).date().replace(year=batch.archived_at.year + 3)
    assert event.data["purge_due"] == due.isoformat()
    with pytest.raises(services.Refused, match="已于") as again:
        services.archive_batch(office(uni), uni.batch)
    assert again.value.code == "already_archived"


@pytest.mark.parametrize(
    "who",
    ["handler", "office", "sync", "survey", "roster"],
)
def test_an_archived_batch_refuses_every_record_change_saying_why(uni, archived, who):
    actors = {
        "handler": Actor(user=uni.library, source=Source.DESK),
        "office": office(uni),
        "sync": Actor.system(Source.SYNC),
        "survey": Actor(user=uni.student.user, source=Source.SURVEY, trusted=True),
        "roster": Actor.system(Source.ROSTER),
    }
    before, events = snapshot(uni.batch), Event.objects.count()
    step = Step.objects.get(category=uni.category, title="学生公寓")
    with pytest.raises(services.Archived) as refused:
        services.apply_many(actors[who], uni.batch, step, [Item(uni.form.id, State.PASSED)])
    message = str(refused.value)
    assert uni.batch.name in message and "归档" in message and "只读" in message
    assert refused.value.code == "archived"
    assert snapshot(uni.batch) == before and Event.objects.count() == events


def test_a_stale_batch_object_is_refused_too(uni):
    """The writer reads the batch again in its transaction: an object loaded before the
    archive (a long sync, an import confirmed later) does not slip through."""
    stale = Batch.objects.select_related("category").get(pk=uni.batch.pk)
    close_window(uni.batch)
    services.archive_batch(office(uni), uni.batch)
    stale.closes_at = timezone.now() + timedelta(days=1)  # as it looked when it was read
    stale.archived_at = None
    step = Step.objects.get(category=uni.category, title="学生公寓")
    with pytest.raises(services.Archived):
        services.apply_many(office(uni), stale, step, [Item(uni.form.id, State.PASSED)])
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_a_desk_click_and_its_dry_run_preview_are_refused(uni, archived):
    rec = record(uni.form, "学生公寓")
    with pytest.raises(services.Refused, match="归档"):
        services.pass_record(office(uni), rec.id)
    with pytest.raises(services.Archived):
        services.apply_many(
            office(uni), uni.batch, rec.step, [Item(uni.form.id, State.PASSED)], dry_run=True
        )
    assert Record.objects.get(pk=rec.id).state == State.PENDING


def test_undo_of_a_group_on_an_archived_batch_is_refused(uni):
    step = Step.objects.get(category=uni.category, title="学生公寓")
    outcome = services.apply_many(
        Actor(user=uni.dorm, source=Source.BULK),
        uni.batch,
        step,
        [Item(uni.form.id, State.PASSED), Item(uni.form_cs2.id, State.PASSED)],
    )
    close_window(uni.batch)
    services.archive_batch(office(uni), uni.batch)
    with pytest.raises(services.UndoRefused, match="归档") as refused:
        services.undo_group(office(uni), outcome.group)
    assert refused.value.code == "archived"
    assert record(uni.form, "学生公寓").state == State.PASSED
    assert not Event.objects.filter(action="clearance.group.undone").exists()


def test_a_survey_cannot_be_submitted(uni, archived):
    Question.objects.create(category=uni.category, text="满意吗", kind="single", choices=["是"])
    with pytest.raises(services.Archived):
        services.submit_survey(uni.student.user, uni.form, {"1": "是"})
    assert not Response.objects.exists()


def test_the_roster_and_its_counselors_are_closed(uni, archived):
    newcomer = f.student("2022000099", "新同学", uni.cs, seed=99)
    with pytest.raises(services.Archived):
        f.enrol(uni.batch, [newcomer])
    assert not Form.objects.filter(student=newcomer).exists()
    with pytest.raises(services.Archived):
        services.assign_counselors(office(uni), uni.batch, {uni.counselor_lit.id: [uni.student.id]})
    assert Form.objects.get(pk=uni.form.pk).counselor == uni.counselor_cs


def test_category_changes_leave_the_archived_forms_as_they_were(uni, archived):
    """Categories are reused year after year: a new step, a new condition or a new completion
    rule reaches the open batches of the category, never an archived one."""
    current = f.batch(uni.category, name="2027届本科生离校")
    newcomer = f.student("2023000001", "新生", uni.cs, seed=11)
    f.enrol(current, [newcomer])
    before = snapshot(uni.batch)
    saved = services.create_step(
        office(uni), uni.category, {"title": "校园卡注销", "owner_type": "department",
                                    "department": Step.objects.get(title="图书馆").department}
    )  # fmt: skip
    assert saved.records_added == 1  # the open batch's one form
    assert not Record.objects.filter(form__batch=uni.batch, step=saved.step).exists()
    party = Step.objects.get(category=uni.category, title="组织关系转移")
    services.update_step(office(uni), party, {}, [])  # the condition dropped: applies to all
    services.update_category(office(uni), uni.category, {"completion_rule": "required"})
    assert snapshot(uni.batch) == before
    assert record(Form.objects.get(batch=current), "组织关系转移").state == State.PENDING


def test_batch_details_are_kept_except_whether_it_is_in_use(uni, archived):
    later = uni.batch.closes_at + timedelta(days=30)
    with pytest.raises(services.Refused, match="只能更改“是否使用”"):
        services.update_batch(office(uni), uni.batch, {"closes_at": later})
    assert Batch.objects.get(pk=uni.batch.pk).window_state() == "closed"
    assert services.update_batch(office(uni), uni.batch, {"enabled": False}) == {
        "enabled": ["True", "False"]
    }


def test_statistics_stay_as_archived(uni, archived):
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    reach = scope.reach(uni.office, uni.batch.id)
    stats = {s.step.title: (s.passed, s.pending) for s in queries.step_statistics(reach)}
    assert stats["图书馆"] == (1, 2)


# ---------------------------------------------------------------------------------------------
# under concurrency: the archive waits for a writer in flight, a later writer sees it archived


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            threading.Event().wait(0.1)
    return False


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two sessions")
@pytest.mark.django_db(transaction=True)
def test_archive_waits_for_a_writer_in_flight_and_later_writers_are_refused(uni):
    close_window(uni.batch)
    step = Step.objects.get(category=uni.category, title="学生公寓")
    holding, release, archived = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def writer():
        try:
            with transaction.atomic():
                services.apply_many(office(uni), uni.batch, step, [Item(uni.form.id, State.PASSED)])
                holding.set()
                release.wait(30)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def archiver():
        try:
            services.archive_batch(office(uni), uni.batch)
            archived.set()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=writer)
    second = threading.Thread(target=archiver)
    first.start()
    try:
        assert holding.wait(30)
        second.start()
        # The archive blocks on the writer's share lock: wait until PostgreSQL says so.
        assert _someone_waits_for_a_lock(), "the archive did not wait for the writer's lock"
        assert not archived.is_set()
    finally:
        release.set()  # whatever happened, the writer ends and both threads are joined
        first.join(30)
        if second.is_alive() or second.ident:
            second.join(30)
    assert errors == []
    assert archived.is_set()
    assert record(uni.form, "学生公寓").state == State.PASSED  # the writer's change committed
    with pytest.raises(services.Archived):
        services.apply_many(office(uni), uni.batch, step, [Item(uni.form_cs2.id, State.PASSED)])
    # PostgreSQL's TRUNCATE flush ends the test; the audit triggers do not fire on it.


def test_an_archived_batchs_daily_tallies_are_not_rebuilt(uni, archived):
    """They are final, and the audit trail they were counted from may be purged later."""
    before = sorted(DailyStepTally.objects.filter(batch=uni.batch).values_list("id", "passed"))
    with pytest.raises(services.Archived):
        services.rebuild_daily_tallies(office(uni), uni.batch)
    out = StringIO()
    call_command("rebuild_daily_tallies", "--batch", str(uni.batch.id), stdout=out)
    assert "已归档" in out.getvalue() and "不重建" in out.getvalue()
    assert (
        sorted(DailyStepTally.objects.filter(batch=uni.batch).values_list("id", "passed")) == before
    )
    assert not Event.objects.filter(action="clearance.tallies.rebuilt").exists()
