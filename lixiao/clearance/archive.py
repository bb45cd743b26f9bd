"""The archive export (归档文件) of an archived batch: one ZIP of CSV files, built by a background
task (clearance.tasks.build_archive) and kept through Django's storage API (never a local path).

- 学生.csv — one row per student: 学号, 姓名, 院系, 专业, 班级, completion;
- 环节状态.csv — per student per step: state, date (when passed), unit;
- 各院系办结.csv, 各环节进度.csv — the maintained counts (anonymous);
- 审计日志.csv — the batch's audit events, up to the moment the build started;
- 说明.txt and manifest.json — what the files are, their row counts and SHA-256.

CSV (UTF-8 with a BOM, so Excel reads the Chinese) rather than .xlsx: a 50,000-student batch has
600,000 step rows and may have more audit events than a worksheet holds (1,048,576).
ID numbers, phones and birth dates are never in it. Every text cell is neutralised against
formula injection as the .xlsx exports are.
"""

import csv
import functools
import hashlib
import io
import json
import logging
import tempfile
import zipfile
from collections import defaultdict
from datetime import UTC, datetime

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from lixiao import sqlbulk
from lixiao.clearance.models import (
    BatchArchive,
    Event,
    Form,
    Record,
    Source,
    State,
    Step,
    StepTally,
)
from lixiao.clearance.queries import college_statistics
from lixiao.clearance.services.audit import log
from lixiao.clearance.services.base import Actor
from lixiao.directory.models import Student, User

FORMAT = "lixiao-batch-archive/1"
_FORMULA_START = frozenset("=+-@\t\r")  # as tabular.writer.neutralise: OWASP CSV injection
SPOOL_BYTES = 32 * 1024 * 1024  # the ZIP is built in memory up to this size, then in a temp file
FORMS_PER_READ = 2000
# Stored on the archive as it is (a task has no reader); the console translates it.
BUILD_FAILED = gettext_noop("归档文件生成失败，请重新生成；如仍失败请联系技术支持。")
logger = logging.getLogger(__name__)

STUDENT_HEADERS = ["学号", "姓名", "院系", "专业", "班级", "学生类别", "加入名单时间", "办结时间"]
RECORD_HEADERS = [
    "学号",
    "姓名",
    "院系",
    "环节",
    "是否必办",
    "状态",
    "办理日期",
    "办理单位",
    "来源",
]
COLLEGE_HEADERS = ["院系", "人数", "已办结", "办结率%"]
STEP_HEADERS = ["环节", "院系", "需办理", "已办理", "未办理", "无需办理"]
AUDIT_HEADERS = [
    "时间", "操作人账号", "操作人", "操作", "学号", "环节", "原状态", "新状态", "来源",
    "备注", "客户端地址", "操作组", "详情",
]  # fmt: skip


def build(batch_id: int) -> dict:
    """Build the batch's archive file if one is queued; a repeated or obsolete task does nothing.

    Claims the queued archive (one UPDATE, so two workers never both build it), writes the ZIP,
    saves it through the storage and records it — unless the office asked again meanwhile.
    """
    now = timezone.now()
    claimed = BatchArchive.objects.filter(
        batch_id=batch_id, status=BatchArchive.Status.QUEUED
    ).update(status=BatchArchive.Status.RUNNING, started_at=now, progress=1)
    if not claimed:
        return {"skipped": True}
    archive = BatchArchive.objects.select_related("batch__category", "requested_by").get(
        batch_id=batch_id
    )
    try:
        # The file's headers and values are the school's record: in the default language.
        with translation.override(settings.LANGUAGE_CODE):
            return _build(archive)
    except Exception:
        logger.exception("archive of batch %s failed", batch_id)
        BatchArchive.objects.filter(pk=archive.pk, started_at=archive.started_at).update(
            status=BatchArchive.Status.FAILED,
            error=BUILD_FAILED,
            finished_at=timezone.now(),
            progress=100,
        )
        raise


def _progress(archive: BatchArchive, percent: int) -> None:
    # Autocommit: the console's polling request sees it while the task runs.
    BatchArchive.objects.filter(pk=archive.pk).update(progress=max(1, min(percent, 99)))


class _Entry:
    """One CSV file inside the ZIP, streamed, with its row count and SHA-256."""

    def __init__(self, zf: zipfile.ZipFile, name: str, headers: list[str]):
        self.name = name
        self.raw = zf.open(name, "w", force_zip64=True)
        self.sha = hashlib.sha256()
        self.rows = 0
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)
        self.buffer.write("\ufeff")
        self.csv.writerow(headers)

    def row(self, values) -> None:
        # tabular.writer.neutralise, inlined: it runs on every cell of a million rows.
        self.csv.writerow(
            [
                ("'" + v if v[:1] in _FORMULA_START else v)
                if v.__class__ is str
                else ("" if v is None else v)
                for v in values
            ]
        )
        self.rows += 1
        if self.buffer.tell() > 1 << 16:
            self._flush()

    def _flush(self) -> None:
        data = self.buffer.getvalue().encode("utf-8")
        self.sha.update(data)
        self.raw.write(data)
        self.buffer.seek(0)
        self.buffer.truncate()

    def close(self) -> dict:
        self._flush()
        self.raw.close()
        return {"rows": self.rows, "sha256": self.sha.hexdigest()}


def _when(moment, fmt="%Y-%m-%d %H:%M:%S", tz=None) -> str:
    # The zone is looked up once by the caller: per row it costs more than the formatting.
    return moment.astimezone(tz or timezone.get_current_timezone()).strftime(fmt) if moment else ""


@functools.lru_cache(maxsize=16384)
def _raw_when(value, fmt: str, tz) -> str:
    """A datetime as plain SQL returns it — aware on PostgreSQL, UTC text on SQLite — as local
    text. Cached: a bulk action stamps thousands of rows with one moment."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).strftime(fmt)


@functools.lru_cache(maxsize=4096)
def _raw_group(value) -> str:
    """An audit group as plain SQL returns it (a UUID, or its 32 hex digits on SQLite)."""
    if not value:
        return ""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def _raw_data(value) -> str:
    """An event's data as plain SQL returns it (text on SQLite, decoded on PostgreSQL), as
    JSON with the Chinese readable; empty when there is none."""
    if isinstance(value, str):
        if value in ("{}", "null", ""):
            return ""
        if "\\u" not in value:
            return value
        value = json.loads(value)
    return json.dumps(value, ensure_ascii=False) if value else ""


def _build(archive: BatchArchive) -> dict:
    batch = archive.batch
    event_cut = Event.objects.filter(batch=batch).aggregate(m=Max("id"))["m"] or 0
    events_total = Event.objects.filter(batch=batch, id__lte=event_cut).count()
    steps = list(
        Step.objects.filter(category_id=batch.category_id)
        .select_related("department")
        .order_by("order", "id")
    )
    forms = list(
        Form.objects.filter(batch=batch)
        .order_by("student__student_number", "id")
        .values_list(
            "id", "student__student_number", "student__name", "college__name",
            "student__major", "student__class_name", "student__student_type",
            "created_at", "completed_at", "purged_at",
        )
    )  # fmt: skip
    # Labels as plain text once (a lazy translation per cell costs more than the whole row).
    states = {key: str(label) for key, label in State.choices}
    sources = {key: str(label) for key, label in Source.choices}
    tz = timezone.get_current_timezone()
    files: dict[str, dict] = {}
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        entry = _Entry(zf, "学生.csv", STUDENT_HEADERS)
        for _fid, number, name, college, major, class_name, stype, created, completed, _p in forms:
            entry.row(
                [
                    number, name, college, major, class_name, stype,
                    _when(created, tz=tz), _when(completed, tz=tz),
                ]
            )  # fmt: skip
        files[entry.name] = entry.close()
        _progress(archive, 5)

        entry = _Entry(zf, "环节状态.csv", RECORD_HEADERS)
        # (step id, title, 是否必办, unit — a department's name; None: the student's college)
        columns = [
            (
                s.id,
                s.title,
                "是" if s.required else "否",
                s.department.name if s.department_id else None,
            )
            for s in steps
        ]
        for start in range(0, len(forms), FORMS_PER_READ):
            part = forms[start : start + FORMS_PER_READ]
            by_form: dict[int, dict[int, tuple]] = defaultdict(dict)
            # Plain SQL: 600,000 rows through the ORM's converters cost more than the rest.
            for form_id, step_id, state, handled_at, source in sqlbulk.select_in(
                Record._meta.db_table,
                ("form_id", "step_id", "state", "handled_at", "source"),
                "form_id",
                [f[0] for f in part],
            ):
                by_form[form_id][step_id] = (state, handled_at, source)
            for form_id, number, name, college, *_rest in part:
                mine = by_form[form_id]
                for step_id, title, required, unit in columns:
                    record = mine.get(step_id)
                    if record is None:  # a step added after this form was archived
                        continue
                    state, handled_at, source = record
                    passed = state == State.PASSED
                    entry.row(
                        [
                            number,
                            name,
                            college,
                            title,
                            required,
                            states.get(state, state),
                            _raw_when(handled_at, "%Y-%m-%d", tz) if passed else "",
                            unit or college,
                            sources.get(source, source) if state != State.NOT_REQUIRED else "",
                        ]
                    )
            _progress(archive, 5 + 55 * (start + len(part)) // max(len(forms), 1))
        files[entry.name] = entry.close()

        entry = _Entry(zf, "各院系办结.csv", COLLEGE_HEADERS)
        for c in college_statistics(batch):
            percent = round(100 * c["done"] / c["total"], 1) if c["total"] else 0.0
            entry.row([c["college__name"], c["total"], c["done"], percent])
        files[entry.name] = entry.close()

        entry = _Entry(zf, "各环节进度.csv", STEP_HEADERS)
        order = {s.id: i for i, s in enumerate(steps)}
        titles = {s.id: s.title for s in steps}
        tallies = (
            StepTally.objects.filter(batch=batch)
            .values_list("step_id", "college__name")
            .annotate(p=Sum("pending"), d=Sum("passed"), n=Sum("not_required"))
            .order_by()
        )
        for step_id, college, pending, passed, not_required in sorted(
            tallies, key=lambda t: (order.get(t[0], 0), t[1])
        ):
            if step_id in titles:
                entry.row(
                    [titles[step_id], college, pending + passed, passed, pending, not_required]
                )
        files[entry.name] = entry.close()

        entry = _Entry(zf, "审计日志.csv", AUDIT_HEADERS)
        for i, (at, username, actor, action, number, step, before, after, *rest) in enumerate(
            _events(batch.id, event_cut), start=1
        ):
            source, note, client_ip, group, data = rest
            entry.row(
                [
                    _raw_when(at, "%Y-%m-%d %H:%M:%S", tz),
                    username or "",
                    actor or ("" if username else "系统"),
                    action,
                    number or "",
                    step or "",
                    states.get(before, before),
                    states.get(after, after),
                    sources.get(source, source),
                    note,
                    client_ip or "",
                    _raw_group(group),
                    _raw_data(data),
                ]
            )
            if i % 20000 == 0:
                _progress(archive, 60 + 35 * i // max(events_total, 1))
        files[entry.name] = entry.close()

        counts = {
            "students": len(forms),
            "records": files["环节状态.csv"]["rows"],
            "events": files["审计日志.csv"]["rows"],
            "purged": sum(1 for f in forms if f[-1] is not None),
        }
        generated = timezone.now()
        manifest = {
            "format": FORMAT,
            "generated_at": timezone.localtime(generated).isoformat(),
            "batch": {
                "id": batch.id,
                "name": batch.name,
                "academic_year": batch.academic_year,
                "student_type": batch.student_type,
                "category": batch.category.name,
                "completion_rule": batch.category.completion_rule,
                "opens_at": timezone.localtime(batch.opens_at).isoformat(),
                "closes_at": timezone.localtime(batch.closes_at).isoformat(),
                "archived_at": timezone.localtime(batch.archived_at).isoformat(),
            },
            "counts": counts,
            "audit_events_up_to_id": event_cut,
            "files": files,
        }
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        zf.writestr("说明.txt", _readme(batch, counts, generated))
    _progress(archive, 97)
    return _keep(archive, spool, counts)


def _events(batch_id: int, up_to: int):
    """The batch's audit events up to an id, oldest first, with the names the file shows.

    Plain SQL through a streaming cursor (server-side WITH HOLD on PostgreSQL, as Django's
    iterator()): a season's events are hundreds of thousands of rows, never held in memory at
    once — and no transaction, which on SQLite would hold the write lock for the whole read.
    """
    qn = connection.ops.quote_name
    event, user, form, student, step = (
        qn(m._meta.db_table) for m in (Event, User, Form, Student, Step)
    )
    sql = (
        f"SELECT e.at, u.username, u.name, e.action, s.student_number, st.title,"
        f" e.from_state, e.to_state, e.source, e.note, e.client_ip, e.{qn('group')}, e.data"
        f" FROM {event} e LEFT JOIN {user} u ON u.id = e.actor_id"
        f" LEFT JOIN {form} f ON f.id = e.form_id LEFT JOIN {student} s ON s.id = f.student_id"
        f" LEFT JOIN {step} st ON st.id = e.step_id"
        f" WHERE e.batch_id = %s AND e.id <= %s ORDER BY e.id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [batch_id, up_to])
        while rows := cursor.fetchmany(5000):
            yield from rows


def _readme(batch, counts: dict, generated) -> str:
    lines = [
        f"离校批次归档文件：{batch.name}（{batch.academic_year}，{batch.category.name}）",
        f"服务时间：{_when(batch.opens_at, '%Y-%m-%d %H:%M')} 至 {_when(batch.closes_at, '%Y-%m-%d %H:%M')}",
        f"归档时间：{_when(batch.archived_at)}；本文件生成时间：{_when(generated)}",
        "",
        f"学生.csv：每名学生一行，共 {counts['students']} 人（含办结时间）。",
        f"环节状态.csv：每名学生每个环节一行，共 {counts['records']} 行：状态、办理日期（已办理时）、办理单位、来源。",
        "各院系办结.csv、各环节进度.csv：各院系人数与办结数、各环节各院系的办理数（不含个人信息）。",
        f"审计日志.csv：本批次的审计日志，共 {counts['events']} 条。",
        "manifest.json：各文件的行数与 SHA-256 校验值。",
        "",
        "文件为 UTF-8 编码（带 BOM），可直接用 Excel 或 WPS 打开；不含身份证件号、电话。",
    ]
    if counts["purged"]:
        lines.append(
            f"其中 {counts['purged']} 名学生的个人信息已按保留期限清除，显示为“（已清除）”。"
        )
    lines += [
        "",
        "Lixiao batch archive: UTF-8 CSV files; see manifest.json for row counts and checksums.",
    ]
    return "\n".join(lines) + "\n"


def _keep(archive: BatchArchive, spool, counts: dict) -> dict:
    """Save the ZIP through the storage and record it; drop the file it replaces."""
    spool.seek(0)
    sha = hashlib.sha256()
    for block in iter(lambda: spool.read(1 << 20), b""):
        sha.update(block)
    size = spool.tell()
    spool.seek(0)
    previous = archive.file.name if archive.file else ""
    batch = archive.batch
    archive.file.save(f"{batch.name}-归档文件.zip", File(spool, name="archive.zip"), save=False)
    name = archive.file.name
    spool.close()
    finished = timezone.now()
    with transaction.atomic():
        # Only the build that claimed this request records itself: a newer request wins.
        done = BatchArchive.objects.filter(
            pk=archive.pk, status=BatchArchive.Status.RUNNING, started_at=archive.started_at
        ).update(
            status=BatchArchive.Status.DONE,
            progress=100,
            file=name,
            size=size,
            sha256=sha.hexdigest(),
            counts=counts,
            finished_at=finished,
            error="",
        )
        if done:
            log(
                Actor.system(Source.ADMIN, user=archive.requested_by),
                "clearance.archive.built",
                batch=batch,
                at=finished,
                data={"batch": batch.id, **counts, "bytes": size, "sha256": sha.hexdigest()},
            )
    storage = archive.file.storage
    if not done:
        storage.delete(name)
        return {"obsolete": True}
    if previous and previous != name:
        storage.delete(previous)
    return {**counts, "bytes": size}
