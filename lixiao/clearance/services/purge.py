"""Retention: the personal data of students whose batches were archived long enough ago is
removed, and audit events past their own period are deleted — both keep the anonymous counts,
both are audited, both preview with dry_run (manage.py purge_personal_data, the lifecycle page).

What a purged student keeps: a form per batch with its college, its steps' states and dates and
its completion time — so the tallies, completion per college and the follow-up page still add
up — and an anonymous shell: 学号 and account name "已清除-<id>", name "（已清除）", college and
student type. Removed: name, 学号, ID number, phone, major, class, gender, political status,
dormitory, the account (disabled, no password, no e-mail), record notes and source reasons,
free-text survey answers, the batch's import files and archive file, and — announced through
clearance.hooks — attachments and messages, notifications, integration-source rows and login
records. A student who is also on a batch not yet due is kept whole, and said so.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lixiao import sqlbulk
from lixiao.clearance import hooks
from lixiao.clearance.models import Batch, BatchArchive, Event, Form, Record
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import PURGED_NAME, PURGED_PREFIX, Actor
from lixiao.clearance.services.lifecycle import due_at, years_after
from lixiao.directory.models import Student, User
from lixiao.survey.models import Question, Response
from lixiao.tabular.models import ImportJob

# What a purge removes, by the keys of Plan.removed (the core's and the apps' through the hook).
REMOVED_LABELS = {
    "names": _("姓名与学号"),
    "id_numbers": _("身份证件号"),
    "phones": _("联系电话"),
    "notes": _("办理备注与集成表说明"),
    "survey_texts": _("问卷填空答案"),
    "files": _("导入文件与归档文件"),
    "attachments": _("附件"),
    "messages": _("异议与留言"),
    "notifications": _("站内通知"),
    "source_rows": _("集成表数据"),
    "login_records": _("登录记录"),
}
# Evidence that data was deleted is kept past the audit period (it names no student).
KEPT_ACTIONS = (
    "clearance.audit.purged",
    "clearance.personal_data.purged",
    "clearance.batch.purged",
)


@dataclass
class BatchDue:
    """One due batch in a purge, and what happens to its students."""

    batch: Batch
    due: datetime
    purged: int = 0  # students whose personal data this purge removes
    kept: int = 0  # students kept whole: also on a batch not yet due
    already: int = 0  # students purged before
    files: int = 0  # import and archive files removed with it


@dataclass
class Kept:
    """A student kept whole, with the batches not yet due: (name, due; None: not archived)."""

    student_id: int
    student_number: str
    batches: list[tuple[str, datetime | None]]


@dataclass
class Plan:
    at: datetime
    years: int
    batches: list[BatchDue] = field(default_factory=list)
    student_ids: list[int] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    removed: dict = field(default_factory=dict)  # {"names": n, "id_numbers": n, …}
    audit_days: int = 0
    # The same students and all their forms as subqueries (no long IN lists): valid until the
    # purge changes them, which is after every count and every app has used them.
    people: QuerySet | None = None
    forms: QuerySet | None = None

    @property
    def students(self) -> int:
        return len(self.student_ids)


def plan(at: datetime | None = None, batch: Batch | None = None, lock: bool = False) -> Plan:
    """What a purge at `at` (default now) removes; nothing is written.

    Every due batch's students go, except those also on a batch not yet due (Kept). `batch`:
    only that batch's part (its lifecycle page asks what its due date will bring). `lock`: for
    the purge itself, which holds the due batches and their students until it commits.
    """
    at = at or timezone.now()
    years = settings.LIXIAO_RETENTION_YEARS
    result = Plan(at=at, years=years, audit_days=settings.LIXIAO_AUDIT_RETENTION_DAYS)
    archived = Batch.objects.filter(archived_at__isnull=False).select_related("category")
    # Archived batches are few (one per category a year): their due moments are compared here.
    due = [b for b in archived.order_by("archived_at", "id") if due_at(b, years) <= at]
    due_ids = [b.id for b in due]
    if lock and due_ids:
        # The due batches (a second purge or an archive rebuild waits), then their students,
        # locked before the plan reads their other forms: a roster import enrolling one of them
        # elsewhere (enrol reads its students FOR SHARE) finishes first, and its form keeps them.
        list(Batch.objects.select_for_update().filter(id__in=due_ids).order_by("id").values("id"))
        unpurged = Form.objects.filter(batch_id__in=due_ids, purged_at__isnull=True)
        list(
            Student.objects.select_for_update()
            .filter(id__in=unpurged.values("student_id"))
            .order_by("id")
            .values_list("id")
        )
    # A finished batch (every student purged) is named again only when asked for.
    wanted = [b for b in due if (b.id == batch.id if batch else b.purged_at is None)]
    wanted_ids = [b.id for b in wanted]
    unpurged = Form.objects.filter(batch_id__in=wanted_ids, purged_at__isnull=True)
    elsewhere = Exists(
        Form.objects.filter(student_id=OuterRef("student_id"), purged_at__isnull=True).exclude(
            batch_id__in=due_ids
        )
    )
    counts: dict[int, Counter] = defaultdict(Counter)
    students: set[int] = set()
    kept: set[int] = set()
    for batch_id, student_id, blocked in unpurged.annotate(blocked=elsewhere).values_list(
        "batch_id", "student_id", "blocked"
    ):
        counts[batch_id]["kept" if blocked else "purged"] += 1
        (kept if blocked else students).add(student_id)
    already = dict(
        Form.objects.filter(batch_id__in=wanted_ids, purged_at__isnull=False)
        .values_list("batch_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    files = _files(wanted_ids)
    for b in wanted:
        result.batches.append(
            BatchDue(
                b,
                due_at(b, years),
                purged=counts[b.id]["purged"],
                kept=counts[b.id]["kept"],
                already=already.get(b.id, 0),
                files=sum(1 for batch_id, _f in files if batch_id == b.id),
            )
        )
    result.student_ids = sorted(students)
    result.people = Student.objects.filter(id__in=unpurged.filter(~elsewhere).values("student_id"))
    result.forms = Form.objects.filter(student_id__in=result.people.values("id"))
    result.kept = _kept(sorted(kept), due_ids, years)
    result.removed = {**_held(result), "files": len(files)}
    return result


def _kept(student_ids: list[int], due_ids: list[int], years: int) -> list[Kept]:
    by_student: dict[int, list] = defaultdict(list)
    numbers: dict[int, str] = {}
    for part in sqlbulk.chunks(student_ids):
        for sid, number, name, archived_at in (
            Form.objects.filter(student_id__in=part, purged_at__isnull=True)
            .exclude(batch_id__in=due_ids)
            .order_by("batch__opens_at", "batch_id")
            .values_list(
                "student_id", "student__student_number", "batch__name", "batch__archived_at"
            )
        ):
            numbers[sid] = number
            by_student[sid].append((name, years_after(archived_at, years) if archived_at else None))
    return [Kept(sid, numbers[sid], by_student[sid]) for sid in student_ids]


def _held(result: Plan) -> dict:
    """What the core keeps of the plan's students that a purge removes, counted."""
    if not result.student_ids:
        return {}
    removed = result.people.aggregate(
        names=Count("id"),
        id_numbers=Count("id", filter=~Q(id_number_enc="")),
        phones=Count("id", filter=~Q(phone="")),
    )
    removed["notes"] = (
        Record.objects.filter(form_id__in=result.forms.values("id"))
        .exclude(note="", reason="")
        .count()
    )
    removed["survey_texts"] = len(_text_answers(result.forms))
    return removed


def _text_answers(forms: QuerySet) -> list[tuple[int, dict]]:
    """(response id, answers without the free-text ones) of these forms' responses that hold
    free text; only categories with a free-text question are read."""
    texts = dict(Question.objects.filter(kind=Question.Kind.TEXT).values_list("id", "category_id"))
    if not texts:
        return []
    keys = {str(q) for q in texts}
    responses = Response.objects.filter(
        form_id__in=forms.values("id"), form__batch__category_id__in=set(texts.values())
    )
    found = []
    for rid, answers in responses.values_list("id", "answers"):
        if any(k in keys and v for k, v in answers.items()):
            found.append((rid, {k: v for k, v in answers.items() if k not in keys}))
    return found


def _files(batch_ids: list[int]) -> list[tuple[int, str]]:
    """(batch id, stored name) of the import files and archive file of these batches."""
    if not batch_ids:
        return []
    found = [
        (batch_id, name)
        for batch_id, name in BatchArchive.objects.filter(batch_id__in=batch_ids)
        .exclude(file="")
        .values_list("batch_id", "file")
    ]
    # Roster and desk imports name their batch in the job's context.
    jobs = ImportJob.objects.filter(context__batch__in=batch_ids).exclude(file="")
    found += [(job.context["batch"], job.file.name) for job in jobs.only("context", "file")]
    return found


def _old_events(before: datetime):
    return Event.objects.filter(at__lt=before).exclude(action__in=KEPT_ACTIONS)


# ---------------------------------------------------------------------------------------------
# doing it


def purge_personal_data(actor: Actor, dry_run: bool = False, at: datetime | None = None) -> Plan:
    """Remove the personal data the plan names, in one transaction, audited; dry_run: only say
    what would go (the apps announced to count theirs too)."""
    with transaction.atomic():
        result = plan(at, lock=not dry_run)
        _announce(result, dry_run)  # attachments, notifications, source rows, login records
        # From here the students change: plan's subqueries (people, forms) no longer hold.
        if dry_run or not (result.student_ids or result.removed.get("files")):
            return result
        now = timezone.now()
        _anonymise(result, now)
        files = _files([d.batch.id for d in result.batches])
        _drop_files(files)
        group = uuid.uuid4()
        for due in result.batches:
            finished = not Form.objects.filter(batch=due.batch, purged_at__isnull=True).exists()
            newly = finished and due.batch.purged_at is None
            if newly:
                Batch.objects.filter(pk=due.batch.pk).update(purged_at=now)
                due.batch.purged_at = now
            if not (due.purged or due.files or newly):
                continue  # only students kept, as on the last run: nothing to record
            audit.log(
                actor,
                "clearance.batch.purged",
                batch=due.batch,
                group=group,
                at=now,
                data={
                    "batch": due.batch.id,
                    "students": due.purged,
                    "kept": due.kept,
                    "files": due.files,
                    "finished": finished,
                    "retention_years": result.years,
                },
            )
        audit.log(
            actor,
            "clearance.personal_data.purged",
            group=group,
            at=now,
            data={
                "students": result.students,
                "batches": [d.batch.id for d in result.batches],
                "removed": result.removed,
                "kept": [[k.student_id, [name for name, _due in k.batches]] for k in result.kept],
                "retention_years": result.years,
            },
        )
    return result


def preview(batch: Batch, at: datetime | None = None) -> Plan:
    """What the purge will remove of this batch when it falls due — or now, if it is due — with
    the apps' counts too; nothing is written. Empty for a batch not archived."""
    at = at or timezone.now()
    due = due_at(batch)
    result = plan(max(at, due) if due else at, batch=batch)
    if due:
        _announce(result, dry_run=True)
    return result


def _announce(result: Plan, dry_run: bool) -> None:
    """Tell the apps (clearance.hooks): they remove — or count — what they keep of these people."""
    if not result.student_ids:
        return
    announced = hooks.PersonalDataPurged(
        students=result.people, forms=result.forms, dry_run=dry_run, removed=dict(result.removed)
    )
    hooks.announce(announced)
    result.removed = announced.removed


def _anonymise(result: Plan, now: datetime) -> None:
    form_ids = list(result.forms.order_by("id").values_list("id", flat=True))  # before the change
    unusable = make_password(None)
    for part in sqlbulk.chunks(result.student_ids):
        users = Student.objects.filter(id__in=part).values("user_id")
        User.objects.filter(id__in=users).update(
            username=Concat(Value(PURGED_PREFIX), Cast("id", CharField())),
            name="",
            email="",
            password=unusable,
            is_active=False,
            uses_initial_password=False,
            last_login=None,
        )
        Student.objects.filter(id__in=part).update(
            student_number=Concat(Value(PURGED_PREFIX), Cast("id", CharField())),
            name=PURGED_NAME,
            id_number_enc="",
            id_number_hash="",
            id_number_masked="",
            phone="",
            major="",
            class_name="",
            gender="",
            political_status="",
            dormitory="",
        )
    for part in sqlbulk.chunks(form_ids):
        for rid, answers in _text_answers(Form.objects.filter(id__in=part)):
            Response.objects.filter(pk=rid).update(answers=answers)
        Record.objects.filter(form_id__in=part).exclude(note="", reason="").update(
            note="", reason=""
        )
    # The forms' page version moves too: a cached page with the old name is never served.
    sqlbulk.update_where_in(Form._meta.db_table, {"purged_at": now, "changed_at": now}, form_ids)


def _drop_files(files: list[tuple[int, str]]) -> None:
    """Delete the due batches' import and archive files and forget them.

    Deleted before the transaction commits: should it then fail, rows name missing files until
    the purge runs again — never the other way round (files of people kept past their time).
    """
    if not files:
        return
    batch_ids = sorted({batch_id for batch_id, _name in files})
    archives = BatchArchive.objects.filter(batch_id__in=batch_ids).exclude(file="")
    for archive in archives:
        archive.file.delete(save=False)
    archives.update(file="", size=0, sha256="")
    for job in ImportJob.objects.filter(context__batch__in=batch_ids).exclude(file=""):
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="", preview={})


def purge_audit(
    actor: Actor, dry_run: bool = False, at: datetime | None = None
) -> tuple[datetime, int]:
    """Delete audit events older than LIXIAO_AUDIT_RETENTION_DAYS (never under 180), through the
    one permitted path, and audit it: (the cut-off, events deleted or — dry_run — to delete)."""
    days = settings.LIXIAO_AUDIT_RETENTION_DAYS
    before = (at or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        old = _old_events(before)
        if dry_run:
            return before, old.count()
        with audit.deletion_permitted():
            deleted, _by_model = old.delete()
        if deleted:
            audit.log(
                actor,
                "clearance.audit.purged",
                data={
                    "before": timezone.localtime(before).isoformat(),
                    "events": deleted,
                    "retention_days": days,
                },
            )
    return before, deleted
