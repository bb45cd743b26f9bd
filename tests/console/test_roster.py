"""Roster import (名单管理): template, row-level validation, preview, confirm, background, rollback."""

import io

import pytest
from django.urls import reverse
from python_calamine import load_workbook

from lixiao.accounts import passwords
from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Event, Form, Record, Scope, State
from lixiao.console import importers
from lixiao.directory import idnumbers
from lixiao.directory.models import College, Staff, Student
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.console.importing import roster_file, roster_row, upload, xlsx

pytestmark = pytest.mark.django_db
CS = "计算机与信息科学学院"


def _upload(client, batch, data: bytes, name="roster.xlsx"):
    url = reverse("console:roster", args=[batch.id])
    return client.post(url, {"file": upload(data, name)}, follow=True)


def _job(batch) -> ImportJob:
    return ImportJob.objects.filter(
        kind=importers.RosterImporter.kind, context__batch=batch.id
    ).latest("id")


def test_template_is_an_xlsx_with_required_columns_marked_and_an_example(office_client):
    response = office_client.get(reverse("console:roster_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:5] == ["学号*", "姓名*", "身份证件号*", "性别", "院系*"]
    assert "辅导员工号" in rows[0] and "学生类别*" in rows[0]
    assert idnumbers.problem(rows[1][2]) is None  # the example ID number is a valid one


def test_every_bad_row_is_reported_and_nothing_is_written(office_client, uni):
    before = (Student.objects.count(), Form.objects.count())
    rows = [
        roster_row("2026000001", "甲", CS, 11),
        roster_row("", "乙", CS, 12),
        roster_row(
            "2026000003",
            "丙",
            CS,
            13,
            id_number=f.id_number(13)[:17] + ("0" if f.id_number(13)[-1] != "0" else "1"),
        ),
        roster_row("2026000001", "丁", CS, 14),
        roster_row("2026000005", "戊", "不存在学院", 15),
        roster_row("2026000006", "己", CS, 16, student_type="专科生"),
        roster_row("2026000007", "庚", CS, 17, counselor=("T7777", "")),
        roster_row("2026000008", "辛", CS, 18, political="党员"),
    ]
    response = _upload(office_client, uni.batch, roster_file(rows))
    page = response.content.decode()
    errors = {(e["row"], e["column"]) for e in _job(uni.batch).preview["errors"]}
    assert errors == {
        (3, "学号"),
        (4, "身份证件号"),
        (5, "学号"),
        (6, "院系"),
        (7, "学生类别"),
        (8, "辅导员工号"),
        (9, "政治面貌"),
    }
    assert (
        "校验位不正确" in page and f.id_number(13)[:17] not in page
    )  # shown masked and "与第 2 行" in page and "第 6 行" in page
    assert "文件中有" in page and "确认导入" not in page  # blocking errors: no confirm button
    assert (Student.objects.count(), Form.objects.count()) == before


def test_missing_column_is_a_clear_message(office_client, uni):
    data = "学号,姓名,院系,学生类别\n2026000001,甲,CS,本科生\n".encode()
    response = _upload(office_client, uni.batch, data, "roster.csv")
    assert "缺少必填列：身份证件号" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_repeated_column_or_a_header_without_rows_refuses_the_file(office_client, uni):
    header = ["学号*", "姓名*", "身份证件号*", "院系*", "学生类别*", "政治面貌", "政治面貌"]
    row = ["2026000001", "甲", f.id_number(11), "CS", "本科生", "中共党员", "群众"]
    page = _upload(office_client, uni.batch, xlsx([header, row])).content.decode()
    assert "“政治面貌”列在表头中出现了 2 次：第 F 列“政治面貌”、第 G 列“政治面貌”" in page
    page = _upload(office_client, uni.batch, xlsx([header[:5]])).content.decode()
    assert "文件只有表头（第 1 行），没有数据行" in page
    assert not ImportJob.objects.exists()
    assert not Student.objects.filter(student_number="2026000001").exists()


def test_confirm_creates_students_accounts_forms_and_records(office_client, uni):
    rows = [
        roster_row(
            f"20260000{i:02d}",
            f"学生{i}",
            "CS" if i % 2 else "文学院",
            20 + i,
            political="中共党员" if i == 1 else "共青团员",
        )
        for i in range(1, 7)
    ]
    _upload(office_client, uni.batch, roster_file(rows))
    job = _job(uni.batch)
    assert job.preview["counts"]["new_students"] == 6 and job.preview["counts"]["new_forms"] == 6
    assert not Student.objects.filter(
        student_number="2026000001"
    ).exists()  # preview writes nothing

    response = office_client.post(
        reverse("console:roster_confirm", args=[uni.batch.id, job.id]), follow=True
    )
    assert "名单已导入" in response.content.decode()
    forms = Form.objects.filter(batch=uni.batch, student__student_number__startswith="202600")
    assert forms.count() == 6
    party = Record.objects.get(
        form__student__student_number="2026000001", step__title="组织关系转移"
    )
    other = Record.objects.get(
        form__student__student_number="2026000002", step__title="组织关系转移"
    )
    assert (party.state, other.state) == (State.PENDING, State.NOT_REQUIRED)
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    # The initial password rule: last 6 of the ID number.
    account = Student.objects.get(student_number="2026000003").user
    assert passwords.check_initial(account, f.id_number(23)[-6:]) and account.uses_initial_password
    assert Event.objects.filter(action="roster.imported", batch=uni.batch, group=job.group).exists()


def test_unknown_college_and_counselor_are_created_when_ticked(office_client, uni):
    rows = [
        roster_row("2026000101", "新院学生", "新设学院", 31, counselor=("T5555", "吴老师")),
        roster_row("2026000102", "新院学生二", "新设学院", 32, counselor=("T5555", "吴老师")),
    ]
    page = _upload(office_client, uni.batch, roster_file(rows)).content.decode()
    assert "创建 1 个新院系：新设学院" in page and "创建 1 名新辅导员账号" in page
    job = _job(uni.batch)
    # Without the ticks nothing is written.
    response = office_client.post(
        reverse("console:roster_confirm", args=[uni.batch.id, job.id]), follow=True
    )
    assert (
        "仍有" in response.content.decode() and not College.objects.filter(name="新设学院").exists()
    )

    office_client.post(
        reverse("console:roster_confirm", args=[uni.batch.id, job.id]),
        {"create_colleges": "1", "create_counselors": "1"},
    )
    college = College.objects.get(name="新设学院")
    counselor = Staff.objects.get(staff_number="T5555")
    assert counselor.name == "吴老师" and counselor.college == college
    assert not counselor.user.has_usable_password()
    forms = Form.objects.filter(batch=uni.batch, college=college)
    assert forms.count() == 2 and set(forms.values_list("counselor_id", flat=True)) == {
        counselor.user_id
    }
    # A "my students" grant of the new counselor reaches exactly those students.
    f.grant(uni.batch, "院系离校", counselor.user, scope=Scope.MINE)
    found = queries.search(scope.reach(counselor.user, uni.batch.id), queries.Filters())
    assert sorted(found.values_list("student__student_number", flat=True)) == [
        "2026000101",
        "2026000102",
    ]


def test_updated_student_gets_conditions_reapplied_and_no_second_form(office_client, uni):
    s = uni.student_cs2  # 群众, already on the batch
    row = roster_row(s.student_number, s.name, "CS", 5, political="中共预备党员")
    page = _upload(office_client, uni.batch, roster_file([row])).content.decode()
    job = _job(uni.batch)
    assert (
        job.preview["counts"]["updated_students"] == 1 and job.preview["counts"]["new_forms"] == 0
    )
    assert "已在本批次名单中" in page
    office_client.post(reverse("console:roster_confirm", args=[uni.batch.id, job.id]))
    assert Form.objects.filter(student=s).count() == 1
    assert Record.objects.get(form=uni.form_cs2, step__title="组织关系转移").state == State.PENDING
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_type_different_from_the_batch_is_a_warning(office_client, uni):
    page = _upload(
        office_client,
        uni.batch,
        roster_file([roster_row("2026000201", "硕士", "CS", 41, student_type="硕士研究生")]),
    ).content.decode()
    assert "学生类别与批次的“本科生”不同" in page and "确认导入 1 名学生" in page


def test_gbk_csv_is_read(office_client, uni):
    header = "学号,姓名,身份证件号,院系,学生类别\n"
    data = (header + f"2026000301,郭同学,{f.id_number(51)},文学院,本科生\n").encode("gbk")
    _upload(office_client, uni.batch, data, "名单.csv")
    assert _job(uni.batch).preview["counts"]["new_students"] == 1


def test_large_import_runs_in_the_background_with_progress(
    office_client, uni, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importers, "BACKGROUND_ROWS", 2)
    rows = [roster_row(f"20260004{i:02d}", f"后台{i}", "CS", 60 + i) for i in range(5)]
    _upload(office_client, uni.batch, roster_file(rows))
    job = _job(uni.batch)
    with django_capture_on_commit_callbacks(execute=True):
        response = office_client.post(
            reverse("console:roster_confirm", args=[uni.batch.id, job.id]), follow=True
        )
    assert "已转入后台导入" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED and job.progress == 100
    partial = office_client.get(
        reverse("console:roster_preview", args=[uni.batch.id, job.id]),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "已导入：新建学生 5 人" in partial
    assert (
        Form.objects.filter(batch=uni.batch, student__student_number__startswith="20260004").count()
        == 5
    )


def test_a_failure_mid_way_leaves_nothing(
    office_client, uni, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importers, "BACKGROUND_ROWS", 1)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "enrol", crash)
    rows = [roster_row(f"20260005{i:02d}", f"失败{i}", "CS", 70 + i) for i in range(3)]
    _upload(office_client, uni.batch, roster_file(rows))
    job = _job(uni.batch)
    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("console:roster_confirm", args=[uni.batch.id, job.id]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "已撤回" in job.result["error"]
    assert not Student.objects.filter(student_number__startswith="20260005").exists()
    page = office_client.get(
        reverse("console:roster_preview", args=[uni.batch.id, job.id])
    ).content.decode()
    assert "导入失败，没有写入任何数据" in page


def test_another_persons_upload_is_not_found(office_client, uni, client):
    _upload(office_client, uni.batch, roster_file([roster_row("2026000601", "某", "CS", 81)]))
    job = _job(uni.batch)
    other = f.staff("A0002", "另一位管理员", is_office=True)
    office_client.force_login(other)
    assert (
        office_client.get(
            reverse("console:roster_preview", args=[uni.batch.id, job.id])
        ).status_code
        == 404
    )
    assert (
        office_client.post(
            reverse("console:roster_confirm", args=[uni.batch.id, job.id])
        ).status_code
        == 404
    )


def test_preview_page_queries_do_not_grow_with_rows(
    office_client, uni, django_assert_max_num_queries
):
    counts = []
    for n in (3, 40):
        rows = [roster_row(f"2026{n:02d}{i:04d}", f"学生{i}", "CS", 90 + i) for i in range(n)]
        rows.append(roster_row("", "坏行", "CS", 1))
        _upload(office_client, uni.batch, roster_file(rows))
        job = _job(uni.batch)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = office_client.get(
                reverse("console:roster_preview", args=[uni.batch.id, job.id])
            )
        assert response.status_code == 200 and "第 " in response.content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_counselor_named_on_one_row_is_created_for_all_their_rows(office_client, uni):
    rows = [
        roster_row("2026000111", "学生甲", "CS", 41, counselor=("T6666", "")),
        roster_row("2026000112", "学生乙", "CS", 42, counselor=("T6666", "郑老师")),
    ]
    page = _upload(office_client, uni.batch, roster_file(rows)).content.decode()
    assert "创建 1 名新辅导员账号" in page
    job = _job(uni.batch)
    office_client.post(
        reverse("console:roster_confirm", args=[uni.batch.id, job.id]),
        {"create_counselors": "1"},
    )
    counselor = Staff.objects.get(staff_number="T6666")
    assert counselor.name == "郑老师"
    forms = Form.objects.filter(
        batch=uni.batch, student__student_number__in=["2026000111", "2026000112"]
    )
    assert set(forms.values_list("counselor_id", flat=True)) == {counselor.user_id}


def test_an_unknown_counselor_without_any_name_is_not_offered_the_tick(office_client, uni):
    rows = [roster_row("2026000121", "学生丙", "CS", 43, counselor=("T7777", ""))]
    page = _upload(office_client, uni.batch, roster_file(rows)).content.decode()
    assert "请填写辅导员姓名以便创建" in page
    assert "新辅导员账号" not in page  # a tick could not supply the name


def test_an_import_whose_worker_died_is_retried_once_then_failed_with_a_message(
    office_client, uni, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """A task worker killed mid-import (kill -9): the import's transaction rolled back; any other
    worker (or the progress page) notices the silence, queues it once more, and on a second loss
    the page says what happened instead of "正在后台导入… 20%" for ever."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from lixiao.infra.models import WorkerBeat

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    monkeypatch.setattr(importers, "BACKGROUND_ROWS", 1)
    rows = [roster_row(f"20260006{i:02d}", f"中断{i}", "CS", 80 + i) for i in range(3)]
    _upload(office_client, uni.batch, roster_file(rows))
    job = _job(uni.batch)
    preview = reverse("console:roster_preview", args=[uni.batch.id, job.id])

    def worker_dies_mid_task():
        task = DBTaskResult.objects.get(status=TaskResultStatus.READY)
        task.claim("worker-killed")
        ImportJob.objects.filter(pk=job.pk).update(progress=20)
        long_ago = timezone.now() - timedelta(minutes=5)
        DBTaskResult.objects.filter(pk=task.pk).update(started_at=long_ago)
        WorkerBeat.objects.update_or_create(
            worker_id="worker-killed", defaults={"beat_at": long_ago}
        )

    with django_capture_on_commit_callbacks(execute=True):
        office_client.post(reverse("console:roster_confirm", args=[uni.batch.id, job.id]))
    worker_dies_mid_task()
    with django_capture_on_commit_callbacks(execute=True):
        office_client.get(preview, headers={"HX-Request": "true"})  # the page's poll notices
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED and job.context["retries"] == 1
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1  # queued again

    worker_dies_mid_task()
    partial = office_client.get(preview, headers={"HX-Request": "true"}).content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "后台导入进程意外停止" in partial and "请重新上传文件" in partial
    assert "正在后台导入" not in partial
    assert not Student.objects.filter(student_number__startswith="20260006").exists()
