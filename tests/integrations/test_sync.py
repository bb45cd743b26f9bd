"""The sync: fail closed, through the one writer (source sync), idempotent, chunked, logged, lease-safe."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Event, Precedence, Record, Source, State, Step
from lixiao.integrations.models import IntegrationSource, SourceRow, SyncRun
from lixiao.integrations.services import rows as source_rows
from lixiao.integrations.services import sync
from tests.conftest import record


def put(source, number, cleared, reason="", amount=None):
    source_rows.store(source, [source_rows.Row(number, cleared, reason, amount)])


def test_no_row_means_pending_with_the_reason_never_passed(finance, uni):
    run = sync.sync_source(finance)
    rec = record(uni.form, "财务处")
    assert rec.state == State.PENDING and rec.reason == "尚无集成表1 财务处数据"
    assert run.status == SyncRun.Status.DONE and run.no_data == 3 and run.passed == 0


def test_cleared_passes_through_the_writer_with_source_sync(finance, uni):
    put(finance, "2022000001", True, "已结清")
    run = sync.sync_source(finance)
    rec = record(uni.form, "财务处")
    assert (rec.state, rec.source, rec.reason) == (State.PASSED, Source.SYNC, "已结清")
    event = Event.objects.get(record=rec, action="clearance.record.passed")
    assert event.source == Source.SYNC and event.actor_id is None
    assert (run.passed, run.returned) == (1, 0)


def test_a_second_run_changes_nothing(finance, uni):
    put(finance, "2022000001", True)
    put(finance, "2022000005", False, "欠费", Decimal("10.00"))
    sync.sync_source(finance)
    events = Event.objects.count()
    again = sync.sync_source(finance)
    assert (again.passed, again.returned, again.unchanged) == (0, 0, 3)
    assert Event.objects.count() == events


def test_not_cleared_reverts_a_sync_pass_and_shows_the_reason(finance, uni):
    put(finance, "2022000001", True)
    sync.sync_source(finance)
    put(finance, "2022000001", False, "欠费", Decimal("1200.00"))
    run = sync.sync_source(finance)
    rec = record(uni.form, "财务处")
    assert rec.state == State.PENDING and rec.reason == "欠费（金额 1200.00 元）"
    assert run.returned == 1


def test_reason_follows_the_source_while_the_state_stays(finance, uni):
    put(finance, "2022000001", False, "欠费 1200.00 元")
    sync.sync_source(finance)
    put(finance, "2022000001", False, "欠费 800.00 元")
    sync.sync_source(finance)
    assert record(uni.form, "财务处").reason == "欠费 800.00 元"


def test_manual_wins_keeps_a_manual_pass(finance, uni):
    Step.objects.filter(source=finance).update(precedence=Precedence.MANUAL_WINS)
    services.pass_record(
        services.Actor(user=uni.finance, source=Source.DESK), record(uni.form, "财务处").id
    )
    put(finance, "2022000001", False, "欠费")
    sync.sync_source(finance)
    assert record(uni.form, "财务处").state == State.PASSED


def test_source_precedence_lets_the_sync_revert_a_manual_pass(finance, uni):
    services.pass_record(
        services.Actor(user=uni.finance, source=Source.DESK), record(uni.form, "财务处").id
    )
    put(finance, "2022000001", False, "欠费")
    sync.sync_source(finance)
    assert record(uni.form, "财务处").state == State.PENDING


def test_stale_rows_never_pass(finance, uni):
    put(finance, "2022000001", True)
    SourceRow.objects.update(checked_at=timezone.now() - timedelta(hours=50))
    finance.stale_after_hours = 48
    finance.save()
    sync.sync_source(finance)
    rec = record(uni.form, "财务处")
    assert rec.state == State.PENDING and "已过期" in rec.reason


def test_unknown_student_numbers_are_counted_and_touch_nothing(finance, uni):
    put(finance, "2099999999", True)
    run = sync.sync_source(finance)
    assert run.unknown == 1 and run.passed == 0
    assert not Record.objects.filter(step__source=finance, state=State.PASSED).exists()


def test_dry_run_counts_and_writes_nothing(finance, uni):
    put(finance, "2022000001", True)
    run = sync.sync_source(finance, dry_run=True)
    assert run.passed == 1 and run.dry_run
    assert record(uni.form, "财务处").state == State.PENDING


def test_chunks_cover_every_form(finance, uni, monkeypatch):
    monkeypatch.setattr(sync, "CHUNK", 1)
    for number in ("2022000001", "2022000003", "2022000005"):
        put(finance, number, True)
    run = sync.sync_source(finance)
    assert run.passed == 3
    groups = set(
        Event.objects.filter(action="clearance.record.passed", source=Source.SYNC).values_list(
            "group", flat=True
        )
    )
    assert len(groups) == 3  # one writer call, one transaction, per chunk


def test_a_failing_chunk_is_rolled_back_whole_and_logged(finance, uni, monkeypatch):
    monkeypatch.setattr(sync, "CHUNK", 2)
    for number in ("2022000001", "2022000003", "2022000005"):
        put(finance, number, True)
    real = services.apply_many
    calls = []

    def flaky(actor, batch, step, items, group=None, dry_run=False):
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(actor, batch, step, items, group, dry_run=dry_run)

    monkeypatch.setattr(services, "apply_many", flaky)
    run = sync.sync_source(finance)
    assert run.status == SyncRun.Status.FAILED and "disk full" in run.errors[0]
    assert run.passed == 1  # the second chunk applied, the first left nothing behind
    assert Record.objects.filter(step__source=finance, state=State.PASSED).count() == 1


def test_a_second_node_skips_while_the_lease_is_held(finance, uni):
    assert sync.acquire_lease(finance, "node-a")
    run = sync.sync_source(finance)
    assert run.status == SyncRun.Status.SKIPPED
    sync.release_lease(finance, "node-a")
    assert sync.sync_source(finance).status == SyncRun.Status.DONE


def test_closed_batches_are_left_alone(finance, uni):
    uni.batch.closes_at = timezone.now() - timedelta(minutes=1)
    uni.batch.opens_at = timezone.now() - timedelta(days=2)
    uni.batch.save()
    put(finance, "2022000001", True)
    assert sync.sync_source(finance).forms == 0


def test_recheck_one_student(finance, uni):
    put(finance, "2022000001", True)
    put(finance, "2022000005", True)
    run = sync.recheck(record(uni.form, "财务处"))
    assert run.trigger == SyncRun.Trigger.RECHECK and run.forms == 1
    assert record(uni.form, "财务处").state == State.PASSED
    assert record(uni.form_cs2, "财务处").state == State.PENDING


def test_state_changes_notify_the_student(finance, uni):
    put(finance, "2022000001", True)
    sync.sync_source(finance)
    note = uni.student.user.notifications.get()
    assert "财务处" in note.body and "已办理" in note.body


def test_command_once_every_and_dry_run(finance, uni, capsys, monkeypatch):
    put(finance, "2022000001", True)
    call_command("sync", "--source", "finance", "--dry-run")
    assert "试运行" in capsys.readouterr().out
    assert record(uni.form, "财务处").state == State.PENDING
    call_command("sync", "--source", "finance")
    assert record(uni.form, "财务处").state == State.PASSED
    with pytest.raises(CommandError, match="没有这些集成表"):
        call_command("sync", "--source", "nosuch")
    with pytest.raises(CommandError, match="10m"):
        call_command("sync", "--every", "soon")

    class Stop(Exception):
        pass

    sleeps = []

    def fake_sleep(seconds):
        sleeps.append(seconds)
        raise Stop

    monkeypatch.setattr("lixiao.infra.schedule.time.sleep", fake_sleep)
    before = SyncRun.objects.filter(source__code="library", trigger="schedule").count()
    with pytest.raises(Stop):
        call_command("sync", "--every", "10m")
    with pytest.raises(Stop):
        # alone: LIXIAO_SYNC_EVERY_MINUTES (10); a second scheduler (another node) in the same
        # ten minutes finds this interval's run taken and only waits for the next one.
        call_command("sync", "--every")
    assert len(sleeps) == 2 and all(0.5 <= s <= 600.5 for s in sleeps)
    assert SyncRun.objects.filter(source__code="library", trigger="schedule").count() == before + 1


def test_a_new_source_with_its_own_step(uni):
    """More sources are addable: a step bound to a third source follows it."""
    dorm_source = IntegrationSource.objects.create(code="dorm", name="集成表3 公寓")
    Step.objects.filter(category=uni.category, title="学生公寓").update(
        automatic=True, source=dorm_source
    )
    put(dorm_source, "2022000003", True)
    sync.sync_source(dorm_source)
    assert record(uni.form_lit, "学生公寓").state == State.PASSED
    assert record(uni.form, "学生公寓").reason == "尚无集成表3 公寓数据"
