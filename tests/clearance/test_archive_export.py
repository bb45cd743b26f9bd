"""The archive export of an archived batch: built by a background task with progress, kept in
Django's storage (here an in-memory one: no local path), per student per step plus the audit."""

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from lixiao.clearance import archive as builder
from lixiao.clearance import services
from lixiao.clearance.models import Batch, BatchArchive, Event, Source
from lixiao.clearance.services import Actor
from lixiao.directory.models import Student
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture
def archive_now(uni, memory_storage, tasks_now, django_capture_on_commit_callbacks):
    """archive_now() archives the personas' batch (ended yesterday); the task runs at commit."""
    office = Actor(user=uni.office, source=Source.ADMIN, client_ip="10.1.2.3")

    def run(service=services.archive_batch):
        with django_capture_on_commit_callbacks(execute=True):
            service(office, uni.batch)
        return BatchArchive.objects.get(batch=uni.batch)

    services.pass_record(office, record(uni.form, "图书馆").id, note="已还清")
    services.pass_record(office, record(uni.form_lit, "学生公寓").id)
    Batch.objects.filter(pk=uni.batch.pk).update(
        opens_at=timezone.now() - timedelta(days=60), closes_at=timezone.now() - timedelta(days=1)
    )
    uni.batch.refresh_from_db()
    return run


def read(archive: BatchArchive) -> dict[str, object]:
    with archive.file.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == archive.sha256 and len(data) == archive.size
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            raw = zf.read(name)
            if name.endswith(".csv"):
                assert raw.startswith("\ufeff".encode())  # Excel reads the Chinese
                files[name] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            else:
                files[name] = raw.decode("utf-8")
            files[f"{name}:sha256"] = hashlib.sha256(raw).hexdigest()
    return files


def test_archiving_builds_the_export_in_the_background(uni, archive_now):
    services.log(
        Actor(user=uni.office, source=Source.ADMIN),
        "console.batch.updated",
        batch=uni.batch,
        data={"changes": {"description": ["", "毕业季"]}},
    )
    events_before = Event.objects.filter(batch=uni.batch).count()
    archive = archive_now()
    assert archive.status == BatchArchive.Status.DONE and archive.progress == 100
    assert archive.file.name.startswith(f"archives/{uni.batch.id}/")
    assert default_storage.exists(archive.file.name)  # through the storage, wherever it is
    files = read(archive)
    assert set(n for n in files if ":" not in n) == {
        "学生.csv", "环节状态.csv", "各院系办结.csv", "各环节进度.csv", "审计日志.csv",
        "manifest.json", "说明.txt",
    }  # fmt: skip
    students = {row["学号"]: row for row in files["学生.csv"]}
    assert set(students) == {"2022000001", "2022000003", "2022000005"}
    assert students["2022000003"]["姓名"] == "林同学" and students["2022000003"]["院系"] == "文学院"
    steps = {(r["学号"], r["环节"]): r for r in files["环节状态.csv"]}
    assert len(steps) == 3 * 6
    library = steps[("2022000001", "图书馆")]
    assert (library["状态"], library["办理单位"], library["来源"]) == ("已办理", "图书馆", "管理员")
    assert library["办理日期"] == timezone.localdate().isoformat()
    college_step = steps[("2022000003", "院系离校")]
    assert (college_step["状态"], college_step["办理单位"], college_step["办理日期"]) == (
        "未办理", "文学院", ""
    )  # fmt: skip
    assert steps[("2022000003", "组织关系转移")]["状态"] == "无需办理"
    colleges = {r["院系"]: r for r in files["各院系办结.csv"]}
    assert colleges["计算机与信息科学学院"]["人数"] == "2"
    audit = files["审计日志.csv"]
    assert len(audit) == events_before + 1  # everything up to and including the archiving
    assert {"clearance.record.passed", "clearance.batch.archived"} <= {r["操作"] for r in audit}
    passed = next(r for r in audit if r["操作"] == "clearance.record.passed")
    assert (passed["学号"], passed["备注"], passed["客户端地址"]) == (
        "2022000001",
        "已还清",
        "10.1.2.3",
    )
    assert passed["操作人账号"] == "A0001" and passed["环节"] == "图书馆"
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", passed["操作组"])
    assert passed["时间"].startswith(str(timezone.localdate()))
    updated = next(r for r in audit if r["操作"] == "console.batch.updated")
    assert json.loads(updated["详情"]) == {"changes": {"description": ["", "毕业季"]}}
    assert "毕业季" in updated["详情"]  # readable text, not \\u escapes
    manifest = json.loads(files["manifest.json"])
    assert manifest["counts"] == {"students": 3, "records": 18, "events": len(audit), "purged": 0}
    for name, info in manifest["files"].items():
        assert info["sha256"] == files[f"{name}:sha256"] and info["rows"] == len(files[name])
    assert "3 人" in files["说明.txt"]
    built = Event.objects.get(action="clearance.archive.built")
    assert built.batch_id == uni.batch.id and built.data["sha256"] == archive.sha256


def test_the_export_holds_no_id_numbers_and_no_formulas(uni, archive_now):
    Student.objects.filter(pk=uni.student.pk).update(name="=HYPERLINK(1)", phone="13800000000")
    archive = archive_now()
    with archive.file.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        text = "".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    for seed in (1, 3, 5):  # the personas' ID numbers, whole and masked
        assert f.id_number(seed) not in text and f.id_number(seed)[-6:] not in text
    for masked in Student.objects.values_list("id_number_masked", flat=True):
        assert masked and masked not in text
    assert "13800000000" not in text
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_a_repeated_task_does_nothing_and_a_rebuild_replaces_the_file(uni, archive_now):
    first = archive_now()
    assert builder.build(uni.batch.id) == {"skipped": True}  # idempotent: nothing queued
    assert BatchArchive.objects.get(pk=first.pk).file.name == first.file.name
    second = archive_now(services.rebuild_archive)
    assert second.status == BatchArchive.Status.DONE and second.file.name != first.file.name
    assert default_storage.exists(second.file.name)
    assert not default_storage.exists(first.file.name)  # the replaced file is gone
    assert Event.objects.filter(action="clearance.archive.requested").count() == 1
    assert Event.objects.filter(action="clearance.archive.built").count() == 2


def test_a_failed_build_says_so_and_can_be_asked_again(uni, archive_now, monkeypatch):
    def broken(archive):
        raise RuntimeError("disk full")

    monkeypatch.setattr(builder, "_build", broken)
    archive = archive_now()
    assert archive.status == BatchArchive.Status.FAILED and not archive.file
    assert "重新生成" in archive.error
    monkeypatch.undo()
    assert archive_now(services.rebuild_archive).status == BatchArchive.Status.DONE


def test_a_rebuild_is_refused_while_one_is_being_built(uni, memory_storage):
    office = Actor(user=uni.office, source=Source.ADMIN)
    Batch.objects.filter(pk=uni.batch.pk).update(
        opens_at=timezone.now() - timedelta(days=60), closes_at=timezone.now() - timedelta(days=1)
    )
    services.archive_batch(office, uni.batch)  # queued: its commit (and the task) never comes here
    with pytest.raises(services.Refused, match="正在生成") as refused:
        services.rebuild_archive(office, uni.batch)
    assert refused.value.code == "in_progress"
    # A request left queued for hours (a worker that died) may be asked again.
    BatchArchive.objects.filter(batch=uni.batch).update(
        requested_at=timezone.now() - timedelta(hours=3)
    )
    services.rebuild_archive(office, uni.batch)
    with pytest.raises(services.Forbidden):
        services.rebuild_archive(Actor(user=uni.library, source="desk"), uni.batch)


def test_progress_is_recorded_while_the_file_is_built(uni, archive_now, monkeypatch):
    seen = []
    real = builder._progress

    def spy(archive, percent):
        real(archive, percent)
        seen.append(BatchArchive.objects.get(pk=archive.pk).progress)

    monkeypatch.setattr(builder, "_progress", spy)
    archive_now()
    assert seen and seen == sorted(seen) and 0 < seen[0] and seen[-1] < 100
    assert BatchArchive.objects.get(batch=uni.batch).progress == 100
