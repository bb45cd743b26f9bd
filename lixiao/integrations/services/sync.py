"""Sync: apply a source's rows to every open form's automatic step, through the one writer.

Fail closed: a student with no row (or a row older than the source's time limit) is pending
with the reason "尚无<source>数据" — never passed. Each chunk of forms is one writer call and
so one transaction; a second run with the same data changes nothing.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Form, Record, Source, State, Step
from lixiao.integrations.models import IntegrationSource, SourceRow, SyncRun
from lixiao.integrations.services import pull
from lixiao.integrations.services import rows as source_rows
from lixiao.notify import services as notify

log = logging.getLogger(__name__)
CHUNK = 2000
LEASE = timedelta(minutes=30)
MAX_ERRORS_KEPT = 50


def no_data_reason(source: IntegrationSource) -> str:
    return f"尚无{source.name}数据"


def wanted(source: IntegrationSource, row, stale_before) -> tuple[str, str]:
    """The state and the student-facing reason one row (or its absence) asks for."""
    if row is None:
        return State.PENDING, no_data_reason(source)
    cleared, reason, amount, checked_at = row
    if stale_before is not None and (checked_at is None or checked_at < stale_before):
        when = timezone.localtime(checked_at).strftime("%Y-%m-%d %H:%M") if checked_at else "未知"
        return State.PENDING, f"{source.name}数据已过期（最近更新 {when}），请等待数据更新"
    if cleared:
        return State.PASSED, reason
    reason = reason or "未结清"
    if amount is not None and f"{amount}" not in reason:
        reason = f"{reason}（金额 {amount} 元）"
    return State.PENDING, reason[:255]


def open_batches(step: Step):
    """Batches whose forms a sync keeps current: enabled and not yet closed."""
    return Batch.objects.filter(
        category_id=step.category_id, enabled=True, closes_at__gt=timezone.now()
    )


def acquire_lease(source: IntegrationSource, owner: str) -> bool:
    now = timezone.now()
    taken = IntegrationSource.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=source.pk
    ).update(lease_until=now + LEASE, lease_owner=owner)
    return taken == 1


def release_lease(source: IntegrationSource, owner: str) -> None:
    IntegrationSource.objects.filter(pk=source.pk, lease_owner=owner).update(
        lease_until=None, lease_owner=""
    )


def sync_source(
    source: IntegrationSource,
    trigger: str = SyncRun.Trigger.MANUAL,
    user=None,
    student_numbers: list[str] | None = None,
    dry_run: bool = False,
) -> SyncRun:
    """Apply the source to open forms (all of them, or only these students') and log a SyncRun.

    A full run holds the source's lease (a second node skips); a run for a few students does
    not need it — the writer's row locks keep concurrent runs on one form safe.
    """
    # What a run writes — its log, the students' reasons, the webhook — is stored for later
    # readers, so it is in the default language even when a request in English started it
    # (a recheck, or any sync under the immediate task backend).
    with translation.override(settings.LANGUAGE_CODE):
        return _sync_source(source, trigger, user, student_numbers, dry_run)


def _sync_source(source, trigger, user, student_numbers, dry_run) -> SyncRun:
    owner = uuid.uuid4().hex
    full = student_numbers is None
    if full and not dry_run and not acquire_lease(source, owner):
        return SyncRun.objects.create(
            source=source,
            trigger=trigger,
            started_by=user,
            status=SyncRun.Status.SKIPPED,
            finished_at=timezone.now(),
        )
    run = SyncRun.objects.create(source=source, trigger=trigger, started_by=user, dry_run=dry_run)
    try:
        if full and source.pulls and not dry_run:
            _pull(source, run)
        _apply(source, run, student_numbers, dry_run)
    except Exception as exc:  # the run must end logged, whatever went wrong
        log.exception("sync of %s failed", source.code)
        _error(run, f"同步中断：{exc}")
    finally:
        if full and not dry_run:
            release_lease(source, owner)
    run.finished_at = timezone.now()
    run.status = SyncRun.Status.FAILED if run.error_count else SyncRun.Status.DONE
    run.save()
    if run.error_count and not dry_run:
        # Staff hear of a failing feed in their group chat, not only when a student complains.
        notify.post_webhook(f"{source.name}同步有 {run.error_count} 个错误：{run.errors[0]}")
    return run


def recheck(record: Record, user=None) -> SyncRun:
    """Re-sync one student's automatic step now (the desk's 复查 button), pulling first if configured."""
    step = record.step
    source = step.source
    if source.pulls:
        try:
            pull.pull_source(source)
        except pull.PullError as exc:
            log.warning("pull for recheck of %s failed: %s", source.code, exc)
    number = record.form.student.student_number
    return sync_source(source, SyncRun.Trigger.RECHECK, user=user, student_numbers=[number])


def _pull(source: IntegrationSource, run: SyncRun) -> None:
    try:
        pulled = pull.pull_source(source)
    except pull.PullError as exc:
        # Keep the rows already held: they turn stale on their own if the pull keeps failing.
        _error(run, f"拉取失败：{exc}")
        return
    run.pulled = pulled.rows
    for message in pulled.errors:
        _error(run, f"拉取：{message}")


def _apply(source: IntegrationSource, run: SyncRun, student_numbers, dry_run: bool) -> None:
    rows_qs = SourceRow.objects.filter(source=source)
    if student_numbers is not None:
        rows_qs = rows_qs.filter(student_number__in=student_numbers)
    data = {
        number: (cleared, reason, amount, checked_at)
        for number, cleared, reason, amount, checked_at in rows_qs.values_list(
            "student_number", "cleared", "reason", "amount", "checked_at"
        )
    }
    stale_before = (
        (timezone.now() - timedelta(hours=source.stale_after_hours))
        if source.stale_after_hours
        else None
    )
    for step in Step.objects.filter(source=source, automatic=True).select_related("category"):
        for batch in open_batches(step):
            _apply_step(source, run, step, batch, data, stale_before, student_numbers, dry_run)
    if student_numbers is None:
        run.unknown = len(data) - source_rows.count_known(list(data))
    else:
        run.unknown = len(student_numbers) - source_rows.count_known(list(student_numbers))


def _apply_step(source, run, step, batch, data, stale_before, student_numbers, dry_run) -> None:
    records = Record.objects.filter(step=step, form__batch=batch).exclude(state=State.NOT_REQUIRED)
    if student_numbers is not None:
        records = records.filter(
            form__in=Form.objects.filter(batch=batch, student__student_number__in=student_numbers)
        )
    current = list(
        records.order_by("form_id").values_list(
            "form_id", "state", "reason", "source", "form__student__student_number"
        )
    )
    run.forms += len(current)
    for start in range(0, len(current), CHUNK):
        items = []
        for form_id, state, reason, _source, number in current[start : start + CHUNK]:
            row = data.get(number)
            to_state, to_reason = wanted(source, row, stale_before)
            run.no_data += row is None
            if (state, reason) == (to_state, to_reason):
                run.unchanged += 1
            else:
                items.append((services.Item(form_id, to_state, reason=to_reason), state))
        if not items:
            continue
        try:
            # The writer decides, for a run and a dry run alike: scope, gate, and that a manual
            # pass stands when the step says so (its outcome counts it unchanged).
            outcome = services.apply_many(
                services.Actor.system(Source.SYNC),
                batch,
                step,
                [item for item, _state in items],
                dry_run=dry_run,
            )
        except Exception as exc:  # this chunk rolled back whole; the next may still apply
            log.exception("sync chunk of %s failed", source.code)
            _error(
                run,
                f"{batch.name}·{step.title}：第 {start + 1}–{start + len(items)} 名学生未能同步（{exc}）",
            )
            continue
        changed = set(outcome.changed)
        for item, state in items:
            if item.form_id in changed:
                _count(run, state, item.to_state)
            else:
                run.unchanged += 1
        for form_id, code, message in outcome.refused:
            _error(run, f"离校单 {form_id}：{message}（{code}）")
        if not dry_run:
            run.save()  # progress shown on the source page while the run goes on


def _count(run: SyncRun, from_state: str, to_state: str) -> None:
    if to_state == from_state:
        run.unchanged += 1  # only the reason changes
    elif to_state == State.PASSED:
        run.passed += 1
    else:
        run.returned += 1


def _error(run: SyncRun, message: str) -> None:
    run.error_count += 1
    if len(run.errors) < MAX_ERRORS_KEPT:
        run.errors.append(message[:500])
