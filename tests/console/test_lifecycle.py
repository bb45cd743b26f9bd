"""The office's lifecycle page: end a batch now, archive it, follow its archive file being built,
download it (audited), see what the next purge removes — and archived batches' statistics on
the batch list, the batch page and the follow-up page."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Batch, BatchArchive, Event, Source, State, Step
from lixiao.notify.models import Notification
from tests import factories as f
from tests.conftest import client_for, record
from tests.console.setup_helpers import auditor
from tests.console.test_setup_batches import batch_post
from tests.test_markup import Markup

pytestmark = pytest.mark.django_db


def url(name: str, batch) -> str:
    return reverse(f"console:{name}", args=[batch.pk])


def end(batch) -> None:
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )


@pytest.fixture
def archived(uni, office_client, django_capture_on_commit_callbacks):
    """Archived through the page, its archive file built (the task runs at the commit)."""
    services.pass_record(services.Actor(uni.office, Source.ADMIN), record(uni.form, "图书馆").id)
    end(uni.batch)
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(url("lifecycle_archive", uni.batch), {"confirm": "yes"})
    assert response.status_code == 302
    uni.batch.refresh_from_db()
    return uni.batch


def test_an_open_batch_is_ended_now_then_archived_with_confirmation(office_client, uni):
    page = office_client.get(url("lifecycle", uni.batch)).content.decode()
    assert (
        "当前状态：办理中" in page and "立即结束办理" in page and 'id="archive-confirm"' not in page
    )
    office_client.post(url("lifecycle_close", uni.batch))
    page = office_client.get(url("lifecycle", uni.batch)).content.decode()
    assert "当前状态：已结束" in page and 'id="archive-confirm"' in page
    response = office_client.post(url("lifecycle_archive", uni.batch), follow=True)
    assert "请先勾选确认" in response.content.decode()
    assert Batch.objects.get(pk=uni.batch.pk).archived_at is None
    response = office_client.post(
        url("lifecycle_archive", uni.batch), {"confirm": "yes"}, follow=True
    )
    page = response.content.decode()
    assert "已归档“2026届本科生离校”" in page and "当前状态：已归档" in page
    assert Batch.objects.get(pk=uni.batch.pk).archived_by == uni.office


def test_archiving_an_open_batch_says_what_to_do_first(office_client, uni):
    response = office_client.post(
        url("lifecycle_archive", uni.batch), {"confirm": "yes"}, follow=True
    )
    assert "请先结束办理，再归档" in response.content.decode()
    assert Batch.objects.get(pk=uni.batch.pk).archived_at is None


def test_the_archive_file_is_shown_downloaded_and_the_download_audited(
    office_client, uni, archived
):
    page = office_client.get(url("lifecycle", uni.batch)).content.decode()
    archive = BatchArchive.objects.get(batch=uni.batch)
    assert archive.status == "done" and 'id="archive-download"' in page and archive.sha256 in page
    assert "3 名学生、18 条环节状态" in page
    response = office_client.get(url("archive_download", uni.batch))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment; filename*=UTF-8''" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        assert "环节状态.csv" in zf.namelist()
    event = Event.objects.get(action="clearance.archive.downloaded")
    assert event.actor == uni.office and event.data["sha256"] == archive.sha256


def test_the_progress_partial_polls_while_the_file_is_built(office_client, uni):
    end(uni.batch)
    services.archive_batch(services.Actor(uni.office, Source.ADMIN), uni.batch)  # queued only
    BatchArchive.objects.filter(batch=uni.batch).update(status="running", progress=40)
    response = office_client.get(url("archive_progress", uni.batch), HTTP_HX_REQUEST="true")
    part = response.content.decode()
    assert 'hx-trigger="every 2s"' in part and 'aria-valuenow="40"' in part
    assert "<html" not in part
    BatchArchive.objects.filter(batch=uni.batch).update(
        status="failed", error="归档文件生成失败，请重新生成；如仍失败请联系技术支持。"
    )
    part = office_client.get(
        url("archive_progress", uni.batch), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in part and "归档文件生成失败" in part


def test_what_the_next_purge_removes_is_listed_with_the_students_kept(
    office_client, uni, archived, settings
):
    settings.LIXIAO_RETENTION_YEARS = 3
    later = f.batch(uni.category, name="2027届硕士研究生离校")
    f.enrol(later, [uni.student_lit])
    page = office_client.get(url("lifecycle", uni.batch)).content.decode()
    due = services.due_at(Batch.objects.get(pk=uni.batch.pk))
    assert f"{due:%Y-%m-%d} 到期" in page
    assert "2 名学生的个人信息" in page and "身份证件号：2" in page
    assert (
        "保留 1 名学生的全部信息" in page
        and "2022000003" in page
        and "2027届硕士研究生离校" in page
    )
    assert "（尚未归档）" in page


def test_a_purged_batch_says_so_and_keeps_its_statistics(office_client, uni, archived, settings):
    settings.LIXIAO_RETENTION_YEARS = 1
    Batch.objects.filter(pk=uni.batch.pk).update(archived_at=timezone.now() - timedelta(days=400))
    services.purge_personal_data(services.Actor.system(Source.ADMIN))
    page = office_client.get(url("lifecycle", uni.batch)).content.decode()
    assert "当前状态：已清除个人信息" in page and 'id="purge-done"' in page
    assert 'id="archive-removed"' in page  # the file went with the personal data
    listing = office_client.get(reverse("console:batch_list")).content.decode()
    assert "已清除个人信息" in listing and "0 / 3（0.0%）" in listing
    batch_page = office_client.get(reverse("console:batch", args=[uni.batch.pk])).content.decode()
    assert "3 人，已办结 0 人" in batch_page and "计算机与信息科学学院" in batch_page
    supervision = office_client.get(
        reverse("console:supervision", args=[uni.batch.pk])
    ).content.decode()
    assert "/ 3 人办结" in supervision and "（已清除）" in supervision
    assert "陈同学" not in supervision


def test_archived_statistics_stay_and_reminders_stop(office_client, uni, archived):
    listing = office_client.get(reverse("console:batch_list")).content.decode()
    assert "已归档" in listing and "0 / 3（0.0%）" in listing
    batch_page = office_client.get(reverse("console:batch", args=[uni.batch.pk])).content.decode()
    assert 'id="batch-state"' in batch_page and "离校单只读" in batch_page
    edit = office_client.post(
        reverse("console:batch_edit", args=[uni.batch.pk]),
        batch_post(
            uni,
            name="改名",
            opens_at=f"{timezone.localtime(uni.batch.opens_at):%Y-%m-%dT%H:%M}",
            closes_at=f"{timezone.localtime(uni.batch.closes_at):%Y-%m-%dT%H:%M}",
        ),
    )
    assert "只能更改“是否使用”" in edit.content.decode()
    assert Batch.objects.get(pk=uni.batch.pk).name == "2026届本科生离校"
    supervision = office_client.get(
        reverse("console:supervision", args=[uni.batch.pk])
    ).content.decode()
    assert 'id="archived-note"' in supervision and "/ 3 人办结" in supervision
    assert reverse("console:supervision_remind", args=[uni.batch.pk]) not in supervision
    step = Step.objects.get(category=uni.category, title="学生公寓")
    notifications = Notification.objects.count()
    response = office_client.post(
        reverse("console:supervision_remind", args=[uni.batch.pk]),
        {"target": f"step:{step.id}"},
        follow=True,
    )
    assert "不再发送督办提醒" in response.content.decode()
    assert Notification.objects.count() == notifications
    roster = office_client.get(reverse("console:roster", args=[uni.batch.pk])).content.decode()
    assert 'id="roster-archived"' in roster and 'id="roster-upload"' not in roster


def test_the_auditor_reads_the_page_but_changes_and_downloads_nothing(uni, archived):
    client = client_for(auditor())
    page = client.get(url("lifecycle", uni.batch)).content.decode()
    assert "当前状态：已归档" in page
    assert 'id="archive-download"' not in page and "重新生成归档文件" not in page
    assert client.get(url("archive_download", uni.batch)).status_code == 403
    assert client.post(url("lifecycle_rebuild", uni.batch)).status_code == 403
    assert not Event.objects.filter(
        action__in=["clearance.archive.downloaded", "clearance.archive.requested"]
    ).exists()


@pytest.mark.parametrize("who", ["library", "counselor_cs", "student", "outsider"])
def test_nobody_else_reaches_the_lifecycle(uni, who):
    user = getattr(uni, who)
    client = client_for(user.user if who == "student" else user)
    end(uni.batch)
    for name in ("lifecycle", "archive_progress", "archive_download"):
        assert client.get(url(name, uni.batch)).status_code == 403
    for name in ("lifecycle_close", "lifecycle_archive", "lifecycle_rebuild"):
        assert client.post(url(name, uni.batch), {"confirm": "yes"}).status_code == 403
    assert Batch.objects.get(pk=uni.batch.pk).archived_at is None


def test_the_page_reads_a_fixed_number_of_queries(office_client, uni):
    """Archived batches of 3 and of 23 students: the same queries (none per student)."""
    office = services.Actor(uni.office, Source.ADMIN)
    bigger = f.batch(uni.category, name="2026届第二批")
    f.enrol(bigger, [f.student(f"20230001{n:02d}", "学生", uni.lit, seed=n) for n in range(23)])
    for batch in (uni.batch, bigger):
        end(batch)
        services.archive_batch(office, Batch.objects.get(pk=batch.pk))
    with CaptureQueriesContext(connection) as few:
        assert office_client.get(url("lifecycle", uni.batch)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        page = office_client.get(url("lifecycle", bigger)).content.decode()
    assert "23 人" in page
    assert len(many) <= len(few)


def test_a_desk_change_after_the_archive_says_why(uni, archived):
    client = client_for(uni.office)
    rec = record(uni.form, "学生公寓")
    response = client.post(reverse("desk:act", args=[uni.batch.id, rec.id, "pass"]), follow=True)
    assert "已于" in response.content.decode() and "归档" in response.content.decode()
    assert record(uni.form, "学生公寓").state == State.PENDING


def test_the_page_in_english_keeps_the_data_as_stored(uni, archived):
    page = client_for(uni.office, "en").get(url("lifecycle", uni.batch)).content.decode()
    assert "Archive and purge" in page and "Current state: Archived" in page
    assert "Archive file" in page and "Download the archive file (.zip)" in page
    assert "Removing personal data" in page and "the personal data of 3 students" in page
    for chinese in ("当前状态", "归档文件", "清除个人信息", "到期"):
        assert chinese not in page
    assert uni.batch.name in page  # data: as stored


def test_every_state_of_the_page_is_sent_without_inline_style_or_script(office_client, uni):
    """The policy refuses inline styles: the progress bar's width is a class (tests/test_markup)."""
    seen = []
    end(uni.batch)
    services.archive_batch(services.Actor(uni.office, Source.ADMIN), uni.batch)
    for status, progress in (("queued", 0), ("running", 37), ("failed", 100), ("done", 100)):
        BatchArchive.objects.filter(batch=uni.batch).update(status=status, progress=progress)
        for path in (url("lifecycle", uni.batch), url("archive_progress", uni.batch)):
            response = office_client.get(path, HTTP_HX_REQUEST="true")
            markup = Markup()
            markup.feed(response.content.decode())
            seen.append((path, status, markup.inline, markup.unlabelled()))
    assert all(inline == [] and unlabelled == [] for _p, _s, inline, unlabelled in seen), seen
    BatchArchive.objects.filter(batch=uni.batch).update(status="running", progress=37)
    running = office_client.get(url("archive_progress", uni.batch), HTTP_HX_REQUEST="true")
    assert "w-pct-37" in running.content.decode()
