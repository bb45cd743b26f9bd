"""Retention: a batch archived longer ago than LIXIAO_RETENTION_YEARS loses its students' personal
data — never their counts — unless a student is still on a batch not yet due; audit events go
after their own period, through the one permitted path; every purge is audited."""

import threading
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt, AccessLog
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from lixiao.clearance import queries, services
from lixiao.clearance.models import Batch, BatchArchive, Event, Form, Record, Source, State
from lixiao.clearance.services import Actor, audit, purge
from lixiao.directory.models import Student, User
from lixiao.integrations.models import IntegrationSource, SourceRow
from lixiao.notify.models import Notification
from lixiao.objections import services as objections
from lixiao.objections.models import Objection
from lixiao.survey.models import Question, Response
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.clearance.test_lifecycle import _someone_waits_for_a_lock
from tests.conftest import record
from tests.test_config import manage, one_line

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def office(uni) -> Actor:
    return Actor(user=uni.office, source=Source.ADMIN, client_ip="10.1.2.3")


def archive(batch: Batch, years_ago: float, by) -> Batch:
    """End the batch and archive it, then move its archiving `years_ago` into the past."""
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=1)
    )
    batch.refresh_from_db()
    services.archive_batch(by, batch)
    Batch.objects.filter(pk=batch.pk).update(
        archived_at=now - timedelta(days=round(365.25 * years_ago))
    )
    batch.refresh_from_db()
    return batch


@pytest.fixture
def held(uni, media, settings):
    """The personas' batch with all kinds of personal data around it, archived 4 years ago."""
    settings.LIXIAO_RETENTION_YEARS = 3
    Student.objects.filter(pk=uni.student.pk).update(phone="13800000001", dormitory="3-101")
    services.pass_record(office(uni), record(uni.form, "学生公寓").id, note="钥匙已交")
    Record.objects.filter(pk=record(uni.form, "财务处").id).update(reason="欠费 1200.00 元")
    objection = objections.submit(
        uni.student.user,
        record(uni.form, "图书馆"),
        "objection",
        "我已还书",
        ContentFile(PNG, name="a.png"),
    )
    text = Question.objects.create(category=uni.category, text="建议", kind="text")
    choice = Question.objects.create(
        category=uni.category, text="满意吗", kind="single", choices=["是", "否"]
    )
    Response.objects.create(
        form=uni.form, answers={str(text.id): "我叫陈同学", str(choice.id): "是"}
    )
    Notification.objects.create(user=uni.student.user, title="离校提醒")
    source = IntegrationSource.objects.get(code="finance")
    SourceRow.objects.create(
        source=source,
        student_number="2022000001",
        cleared=False,
        reason="欠费",
        updated_at=timezone.now(),
    )
    AccessLog.objects.create(username="2022000001", ip_address="10.0.0.1", user_agent="x")
    AccessAttempt.objects.create(
        username="2022000001", ip_address="10.0.0.1", user_agent="x", failures_since_start=1
    )
    job = ImportJob(kind="console.roster", created_by=uni.office, context={"batch": uni.batch.id})
    job.file.save("roster.csv", ContentFile("学号,姓名,身份证件号\n".encode()), save=False)
    job.preview = {"errors": [{"row": 2, "value": "2022000001"}]}
    job.save()
    archive(uni.batch, 4, office(uni))
    return {"objection": objection, "text": text, "choice": choice, "job": job}


def test_a_dry_run_lists_and_changes_nothing(uni, held):
    before = list(Student.objects.order_by("id").values_list("name", "student_number", "phone"))
    plan = services.purge_personal_data(office(uni), dry_run=True)
    assert [d.batch for d in plan.batches] == [uni.batch]
    assert plan.students == 3 and plan.batches[0].purged == 3 and not plan.kept
    assert plan.removed["names"] == 3 and plan.removed["id_numbers"] == 3
    assert plan.removed["phones"] == 1 and plan.removed["attachments"] == 1
    assert plan.removed["notifications"] >= 1 and plan.removed["source_rows"] == 1
    assert plan.removed["login_records"] == 2 and plan.removed["survey_texts"] == 1
    assert plan.removed["notes"] == 2 and plan.removed["files"] == 1
    assert (
        list(Student.objects.order_by("id").values_list("name", "student_number", "phone"))
        == before
    )
    assert not Event.objects.filter(action__endswith=".purged").exists()
    assert Batch.objects.get(pk=uni.batch.pk).purged_at is None


def test_the_purge_removes_personal_data_and_keeps_the_counts(uni, held):
    tallies = queries.tallies(uni.batch)
    colleges = queries.college_statistics(uni.batch)
    states = sorted(
        Record.objects.filter(form__batch=uni.batch).values_list("id", "state", "handled_at")
    )
    completed = sorted(Form.objects.filter(batch=uni.batch).values_list("id", "completed_at"))
    attachment = held["objection"].attachment.name
    assert default_storage.exists(attachment)

    plan = services.purge_personal_data(office(uni))

    assert plan.students == 3
    for student in Student.objects.all():
        assert student.name == "（已清除）" and student.student_number == f"已清除-{student.id}"
        assert (student.id_number_enc, student.id_number_hash, student.id_number_masked) == (
            "",
            "",
            "",
        )
        assert (student.phone, student.major, student.class_name, student.dormitory) == (
            "",
            "",
            "",
            "",
        )
        assert (student.gender, student.political_status) == ("", "")
        assert student.college_id and student.student_type == "本科生"  # what the counts need
        user = student.user
        assert user.username == f"已清除-{user.id}" and user.name == "" and not user.is_active
        assert not user.has_usable_password() and not user.uses_initial_password
    # The counts and the states stay exactly as they were.
    assert queries.tallies(uni.batch) == tallies == queries.recount(uni.batch)
    assert queries.college_statistics(uni.batch) == colleges
    assert (
        sorted(
            Record.objects.filter(form__batch=uni.batch).values_list("id", "state", "handled_at")
        )
        == states
    )
    assert (
        sorted(Form.objects.filter(batch=uni.batch).values_list("id", "completed_at")) == completed
    )
    assert not Record.objects.exclude(note="", reason="").exists()
    assert not Form.objects.filter(purged_at__isnull=True).exists()
    # What the apps keep of the students went with them.
    objection = Objection.objects.get(pk=held["objection"].pk)
    assert (objection.message, objection.attachment.name, objection.attachment_name) == ("", "", "")
    assert not default_storage.exists(attachment)
    assert not Notification.objects.filter(user__student__isnull=False).exists()
    assert not SourceRow.objects.exists()
    assert not AccessLog.objects.exists() and not AccessAttempt.objects.exists()
    assert Response.objects.get(form=uni.form).answers == {str(held["choice"].id): "是"}
    job = ImportJob.objects.get(pk=held["job"].pk)
    assert not job.file and job.preview == {}
    # The batch is purged, and both the batch and the run are audited.
    batch = Batch.objects.get(pk=uni.batch.pk)
    assert batch.lifecycle() == "purged" and batch.purged_at is not None
    event = Event.objects.get(action="clearance.batch.purged")
    assert event.batch_id == batch.id and event.data["students"] == 3 and event.data["finished"]
    run = Event.objects.get(action="clearance.personal_data.purged")
    assert run.group == event.group and run.data["removed"]["attachments"] == 1
    assert run.source == Source.ADMIN and run.actor == uni.office
    # A second run finds nothing left to do.
    again = services.purge_personal_data(office(uni))
    assert again.students == 0 and not again.batches
    assert Event.objects.filter(action="clearance.batch.purged").count() == 1


def test_a_purged_student_can_no_longer_log_in_and_a_new_roster_may_reuse_the_number(
    uni, held, client
):
    services.purge_personal_data(office(uni))
    response = client.post(
        reverse("accounts:login"), {"username": "2022000001", "password": f.PASSWORD}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    newcomer = f.student("2022000001", "陈同学", uni.cs, seed=1)  # back for a master's degree
    assert newcomer.user.username == "2022000001"


def test_a_student_on_a_batch_not_yet_due_is_kept_whole(uni, held):
    later = f.batch(uni.category, name="2027届硕士研究生离校", student_type="硕士研究生")
    f.enrol(later, [uni.student_lit])  # 林同学 stays on for a master's degree
    plan = services.purge_personal_data(office(uni))
    assert plan.students == 2
    assert [(k.student_number, [name for name, _due in k.batches]) for k in plan.kept] == [
        ("2022000003", ["2027届硕士研究生离校"])
    ]
    lin = Student.objects.get(pk=uni.student_lit.pk)
    assert lin.name == "林同学" and lin.id_number_enc and lin.user.is_active
    assert Form.objects.filter(student=lin, purged_at__isnull=True).count() == 2
    batch = Batch.objects.get(pk=uni.batch.pk)
    assert batch.lifecycle() == "archived"  # not every student is purged yet
    event = Event.objects.get(action="clearance.batch.purged")
    assert (event.data["students"], event.data["kept"], event.data["finished"]) == (2, 1, False)
    # When the later batch is archived and due too, the last student goes and the batch is done.
    archive(later, 3.5, office(uni))
    plan = services.purge_personal_data(office(uni))
    assert plan.students == 1 and not plan.kept
    assert Student.objects.get(pk=lin.pk).name == "（已清除）"
    assert Batch.objects.get(pk=uni.batch.pk).lifecycle() == "purged"
    assert Batch.objects.get(pk=later.pk).lifecycle() == "purged"


def test_nothing_is_due_before_the_retention_period(uni, media, settings):
    settings.LIXIAO_RETENTION_YEARS = 3
    archive(uni.batch, 2.9, office(uni))
    plan = services.purge_personal_data(office(uni))
    assert not plan.batches and plan.students == 0
    assert Student.objects.get(pk=uni.student.pk).name == "陈同学"
    assert not Event.objects.filter(action__endswith=".purged").exists()
    preview = purge.preview(uni.batch)  # the lifecycle page: what its due date will bring
    assert preview.batches[0].purged == 3 and preview.removed["id_numbers"] == 3
    assert preview.batches[0].due == services.due_at(uni.batch)
    assert Student.objects.get(pk=uni.student.pk).name == "陈同学"


def test_the_archive_file_goes_and_a_rebuild_has_no_names(
    uni, settings, media, tasks_now, django_capture_on_commit_callbacks
):
    settings.LIXIAO_RETENTION_YEARS = 1
    with django_capture_on_commit_callbacks(execute=True):
        archive(uni.batch, 1.5, office(uni))
    built = BatchArchive.objects.get(batch=uni.batch)
    assert built.status == BatchArchive.Status.DONE and default_storage.exists(built.file.name)
    services.purge_personal_data(office(uni))
    gone = BatchArchive.objects.get(batch=uni.batch)
    assert not gone.file and not default_storage.exists(built.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.rebuild_archive(office(uni), uni.batch)
    rebuilt = BatchArchive.objects.get(batch=uni.batch)
    with rebuilt.file.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        students = zf.read("学生.csv").decode("utf-8-sig")
    assert "陈同学" not in students and "2022000001" not in students and "（已清除）" in students
    assert rebuilt.counts["purged"] == 3


# ---------------------------------------------------------------------------------------------
# audit events: kept at least their period, deleted only through the permitted path


def old_event(days_ago: int, action="clearance.record.passed") -> Event:
    return audit.log(
        Actor.system(Source.ADMIN),
        action,
        note="旧日志",
        at=timezone.now() - timedelta(days=days_ago),
    )


def test_audit_events_past_their_period_are_deleted_and_the_purge_audited(uni, settings):
    settings.LIXIAO_AUDIT_RETENTION_DAYS = 200
    old, kept_evidence = old_event(201), old_event(400, "clearance.audit.purged")
    recent = old_event(199)
    before, n = services.purge_audit(office(uni), dry_run=True)
    assert n == 1 and Event.objects.filter(pk=old.pk).exists()
    before, n = services.purge_audit(office(uni))
    assert n == 1
    assert not Event.objects.filter(pk=old.pk).exists()
    assert Event.objects.filter(pk__in=[recent.pk, kept_evidence.pk]).count() == 2
    event = Event.objects.filter(action="clearance.audit.purged").latest("id")
    assert event.data["events"] == 1 and event.data["retention_days"] == 200
    assert event.actor == uni.office


def test_outside_the_purge_events_still_cannot_be_deleted(uni, settings):
    settings.LIXIAO_AUDIT_RETENTION_DAYS = 180
    old = old_event(365)
    table = connection.ops.quote_name(Event._meta.db_table)
    with transaction.atomic():
        with audit.deletion_permitted():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {table} WHERE id = %s", [old.pk])  # noqa: S608
        # The block ended: the same transaction can no longer delete.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [old.pk])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=old.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=old.pk).update(note="改掉")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with audit.deletion_permitted():  # the permit deletes, it never updates
            Event.objects.filter(pk=old.pk).update(note="改掉")
    assert Event.objects.get(pk=old.pk).note == "旧日志"


def test_the_command_lists_then_purges(uni, held, settings):
    settings.LIXIAO_AUDIT_RETENTION_DAYS = 180
    old_event(365)
    out = StringIO()
    call_command("purge_personal_data", "--dry-run", "-v", "2", stdout=out)
    text = out.getvalue()
    assert "试运行" in text and uni.batch.name in text and "将清除 3 人" in text
    assert "附件 1" in text and "身份证件号 3" in text and "2022000001" in text
    assert "将删除" in text and "之前的 1 条" in text
    assert Student.objects.get(pk=uni.student.pk).name == "陈同学"
    out = StringIO()
    call_command("purge_personal_data", stdout=out)
    text = out.getvalue()
    assert "已清除 3 人" in text and "2022000001" not in text  # no personal data in the log
    assert "已删除" in text
    assert Student.objects.get(pk=uni.student.pk).name == "（已清除）"
    assert Event.objects.filter(action="clearance.audit.purged").exists()


def test_a_state_change_on_a_purged_batch_is_still_refused(uni, held):
    services.purge_personal_data(office(uni))
    with pytest.raises(services.Archived):
        services.pass_record(office(uni), record(uni.form, "学生公寓").id)
    assert User.objects.filter(is_active=False).count() == 3
    assert record(uni.form, "院系离校").state == State.PENDING


# ---------------------------------------------------------------------------------------------
# the settings: a period too short is refused at start-up in one line


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("LIXIAO_AUDIT_RETENTION_DAYS", "90", ("LIXIAO_AUDIT_RETENTION_DAYS", "180")),
        ("LIXIAO_RETENTION_YEARS", "0", ("LIXIAO_RETENTION_YEARS", "at least 1")),
        ("LIXIAO_RETENTION_YEARS", "three", ("LIXIAO_RETENTION_YEARS", "whole number")),
    ],
)
def test_a_retention_setting_out_of_bounds_is_one_line(tmp_path, variable, value, words):
    one_line(manage(tmp_path, "check", **{variable: value}), *words)


# ---------------------------------------------------------------------------------------------
# a roster import and a purge at the same moment


def test_a_purged_student_is_never_put_back_on_a_roster(uni, held):
    services.purge_personal_data(office(uni))
    later = f.batch(uni.category, name="2027届本科生离校")
    with pytest.raises(services.Refused, match="已按保留期限清除") as refused:
        f.enrol(later, [Student.objects.get(pk=uni.student.pk)])
    assert refused.value.code == "purged"
    assert not Form.objects.filter(batch=later).exists()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two sessions")
@pytest.mark.django_db(transaction=True)
def test_a_purge_waits_for_an_enrolment_in_flight_and_keeps_that_student(uni, settings):
    settings.LIXIAO_RETENTION_YEARS = 1
    later = f.batch(uni.category, name="2027届硕士研究生离校")
    archive(uni.batch, 2, office(uni))
    enrolling, release, purged = threading.Event(), threading.Event(), []
    errors = []

    def enrol():
        try:
            with transaction.atomic():
                f.enrol(later, [uni.student_lit])  # 林同学 goes on to a master's degree
                enrolling.set()
                release.wait(30)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def run_purge():
        try:
            purged.append(services.purge_personal_data(office(uni)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first, second = threading.Thread(target=enrol), threading.Thread(target=run_purge)
    first.start()
    try:
        assert enrolling.wait(30)
        second.start()
        assert _someone_waits_for_a_lock(), "the purge did not wait for the enrolment"
        assert not purged
    finally:
        release.set()
        first.join(30)
        if second.ident:
            second.join(30)
    assert errors == []
    plan = purged[0]
    assert plan.students == 2 and [k.student_number for k in plan.kept] == ["2022000003"]
    assert Student.objects.get(pk=uni.student_lit.pk).name == "林同学"
    assert Form.objects.filter(batch=later, student=uni.student_lit).exists()
    # PostgreSQL's TRUNCATE flush ends the test; the audit triggers do not fire on it.
