"""The one writer on the fixed university: pass/revoke, gate, cascade, completion, bulk, window, sync."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance import queries, services
from lixiao.clearance.models import (
    Batch,
    Event,
    Form,
    FormTally,
    Grant,
    Record,
    Source,
    State,
    Step,
    StepTally,
)
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import Actor, Item
from lixiao.notify.models import Notification
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


def actor(user, source="desk"):
    return Actor(user=user, source=source, client_ip="10.1.2.3")


def step(batch, title) -> Step:
    return Step.objects.get(category_id=batch.category_id, title=title)


def state(form, title) -> str:
    return record(form, title).state


def completed(form) -> bool:
    form.refresh_from_db()
    return form.completed_at is not None


def snapshot(batch):
    """Everything a failed write must leave as it was."""
    return (
        sorted(
            Record.objects.filter(form__batch=batch).values_list(
                "id", "state", "handled_by_id", "source", "note"
            )
        ),
        sorted(Form.objects.filter(batch=batch).values_list("id", "completed_at")),
        queries.tallies(batch),
        Event.objects.count(),
        Notification.objects.count(),
    )


# ---------------------------------------------------------------------------------------------
# one record


def test_pass_writes_record_event_and_counters(uni):
    rec = record(uni.form, "图书馆")
    outcome = services.pass_record(actor(uni.library), rec.id, note="已还清")
    rec.refresh_from_db()
    assert (rec.state, rec.handled_by, rec.source, rec.note) == (
        State.PASSED,
        uni.library,
        Source.DESK,
        "已还清",
    )
    assert rec.handled_at is not None
    assert outcome.changed == [uni.form.id]
    event = Event.objects.get(record=rec)
    assert (event.action, event.from_state, event.to_state) == (
        "clearance.record.passed",
        "pending",
        "passed",
    )
    assert event.group == outcome.group
    tally = StepTally.objects.get(batch=uni.batch, step=rec.step, college=uni.cs)
    assert (tally.pending, tally.passed) == (1, 1)
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_revoke_returns_to_pending_and_passing_twice_changes_nothing(uni):
    rec = record(uni.form, "学生公寓")
    services.pass_record(actor(uni.dorm), rec.id)
    again = services.pass_record(actor(uni.dorm), rec.id)
    assert again.unchanged == [uni.form.id] and again.changed == []
    services.revoke_record(actor(uni.dorm), rec.id, note="钥匙未交")
    rec.refresh_from_db()
    assert rec.state == State.PENDING and rec.note == "钥匙未交"
    assert list(
        Event.objects.filter(record=rec).order_by("id").values_list("action", flat=True)
    ) == ["clearance.record.passed", "clearance.record.revoked"]
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_gate_message_names_exactly_the_steps_still_pending(uni):
    for title, user in [("图书馆", uni.library), ("学生公寓", uni.dorm)]:
        services.pass_record(actor(user), record(uni.form, title).id)
    with pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    message = str(exc.value)
    assert exc.value.code == "gate"
    assert "财务处" in message and "组织关系转移" in message
    assert "图书馆" not in message and "学生公寓" not in message
    assert "校友会登记" not in message  # optional: never a prerequisite
    assert state(uni.form, "院系离校") == State.PENDING
    # A student to whom the party step does not apply is not held back by it.
    with pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.counselor_cs), record(uni.form_cs2, "院系离校").id)
    assert "组织关系转移" not in str(exc.value)


def test_a_grant_outside_its_dates_allows_nothing(uni):
    today = timezone.localdate()
    Grant.objects.filter(user=uni.library).update(ends_on=today - timedelta(days=1))
    with pytest.raises(services.NotFound):
        services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    Grant.objects.filter(user=uni.library).update(starts_on=today + timedelta(days=1), ends_on=None)
    with pytest.raises(services.NotFound):
        services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    Grant.objects.filter(user=uni.library).update(starts_on=today, ends_on=today)
    services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    assert state(uni.form, "图书馆") == State.PASSED


def test_not_applicable_step_cannot_be_passed_even_by_the_office(uni):
    with pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.office), record(uni.form_cs2, "组织关系转移").id)
    assert exc.value.code == "not_applicable" and "无需办理" in str(exc.value)
    assert state(uni.form_cs2, "组织关系转移") == State.NOT_REQUIRED


def test_handler_cannot_touch_another_step_or_college(uni):
    before = snapshot(uni.batch)
    for user, form, title in [
        (uni.library, uni.form, "财务处"),
        (uni.counselor_lit, uni.form, "院系离校"),
        (uni.outsider, uni.form, "图书馆"),
        (uni.student.user, uni.form, "图书馆"),
    ]:
        with pytest.raises(services.NotFound):
            services.pass_record(actor(user), record(form, title).id)
    with pytest.raises(services.NotFound):
        services.pass_record(actor(uni.library), 10**9)
    after = snapshot(uni.batch)
    assert after[:3] == before[:3]
    assert not Event.objects.filter(
        action__in=["clearance.record.passed", "clearance.record.revoked"]
    ).exists()


# ---------------------------------------------------------------------------------------------
# cascade and completion


def test_revoking_a_prerequisite_reopens_the_final_in_the_same_transaction(uni):
    cs_deputy = f.staff("T1005", "吴老师", college=uni.cs)
    f.grant(uni.batch, "院系离校", cs_deputy, scope="college", college=uni.cs)
    f.pass_prerequisites(uni.form, uni.office)
    services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    assert completed(uni.form)

    outcome = services.revoke_record(
        actor(uni.counselor_cs), record(uni.form, "组织关系转移").id, note="材料有误"
    )
    assert outcome.reopened == [uni.form.id]
    assert state(uni.form, "院系离校") == State.PENDING
    assert not completed(uni.form)
    revoked = Event.objects.get(action="clearance.record.revoked")
    reopened = Event.objects.get(action="clearance.record.reopened")
    assert reopened.record == record(uni.form, "院系离校")
    assert (reopened.source, reopened.from_state, reopened.to_state) == (
        "cascade",
        "passed",
        "pending",
    )
    assert "组织关系转移" in reopened.note
    assert reopened.group == revoked.group and reopened.at == revoked.at
    final = record(uni.form, "院系离校")
    assert final.source == Source.CASCADE
    # The final step's handlers of that college hear of it; the other college does not.
    assert uni.counselor_cs.notifications.count() == 1
    assert cs_deputy.notifications.count() == 1
    assert "院系离校" in cs_deputy.notifications.get().title
    assert uni.counselor_lit.notifications.count() == 0
    assert uni.library.notifications.count() == 0
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    assert f.broken_forms(uni.batch) == []


def test_a_reopened_final_is_told_once_per_student_to_a_my_students_counselor(uni):
    wang = f.staff("T1003", "王老师", college=uni.lit)
    # Two grants reach the same student: the college one and the "my students" one.
    f.grant(uni.batch, "院系离校", wang, scope="college", college=uni.lit)
    f.grant(uni.batch, "院系离校", wang, scope="mine")
    hers = f.enrolled(uni.batch, "2022000011", "黄同学", uni.lit, counselor=wang)
    not_hers = f.enrolled(uni.batch, "2022000013", "何同学", uni.cs, counselor=uni.counselor_cs)
    for form in (hers, not_hers):
        f.pass_prerequisites(form, uni.office)
        services.pass_record(actor(uni.office), record(form, "院系离校").id)
    services.apply_many(
        actor(uni.finance, "bulk"),
        uni.batch,
        step(uni.batch, "财务处"),
        [Item(hers.id, State.PENDING), Item(not_hers.id, State.PENDING)],
    )
    assert state(hers, "院系离校") == State.PENDING and state(not_hers, "院系离校") == State.PENDING
    note = wang.notifications.get()
    assert "1 名学生" in note.body
    assert "1 名学生" in uni.counselor_cs.notifications.get().body
    assert (
        uni.counselor_lit.notifications.get().body == note.body
    )  # LIT college grant: her student only


def test_revoking_an_optional_step_leaves_the_final_passed(uni):
    f.pass_prerequisites(uni.form, uni.office)
    services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    outcome = services.revoke_record(actor(uni.dorm), record(uni.form, "校友会登记").id)
    assert outcome.reopened == []
    assert state(uni.form, "院系离校") == State.PASSED
    assert not completed(uni.form)  # rule "all": the optional step counts for completion
    assert not Event.objects.filter(action="clearance.record.reopened").exists()
    assert uni.counselor_cs.notifications.count() == 0


def test_completion_under_rule_all_needs_the_optional_step(uni):
    for title in ("图书馆", "财务处", "学生公寓", "组织关系转移"):
        services.pass_record(actor(uni.office), record(uni.form, title).id)
    services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    assert not completed(uni.form)
    services.pass_record(actor(uni.dorm), record(uni.form, "校友会登记").id)
    assert completed(uni.form)
    assert FormTally.objects.get(batch=uni.batch, college=uni.cs).completed == 1
    services.revoke_record(actor(uni.library), record(uni.form, "图书馆").id)
    assert not completed(uni.form)
    assert FormTally.objects.get(batch=uni.batch, college=uni.cs).completed == 0
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_completion_under_rule_required_ignores_the_optional_step(uni):
    cat = f.category("研究生离校", rule="required")
    b = f.batch(cat, name="2026届研究生离校", student_type="硕士研究生")
    form = f.enrolled(b, "2023100001", "郑同学", uni.cs, student_type="硕士研究生", seed=7)
    assert state(form, "组织关系转移") == State.NOT_REQUIRED
    for title in ("图书馆", "财务处", "学生公寓", "院系离校"):
        services.pass_record(actor(uni.office), record(form, title).id)
    assert state(form, "校友会登记") == State.PENDING
    assert completed(form)
    services.revoke_record(actor(uni.office), record(form, "财务处").id)
    assert not completed(form)
    assert state(form, "院系离校") == State.PENDING
    assert queries.tallies(b) == queries.recount(b)
    assert f.broken_forms(b) == []


# ---------------------------------------------------------------------------------------------
# bulk


def test_bulk_reports_changed_unchanged_and_every_refusal(uni):
    ready = f.enrolled(uni.batch, "2022000007", "吴同学", uni.cs, counselor=uni.counselor_cs)
    done = f.enrolled(uni.batch, "2022000009", "郑同学", uni.cs, counselor=uni.counselor_cs)
    for form in (ready, done):
        f.pass_prerequisites(form, uni.office)
    services.pass_record(actor(uni.counselor_cs), record(done, "院系离校").id)
    events_before = Event.objects.count()
    items = [
        Item(ready.id, State.PASSED),
        Item(done.id, State.PASSED),
        Item(uni.form_cs2.id, State.PASSED),
        Item(uni.form_lit.id, State.PASSED),
        Item(ready.id, State.PENDING),
    ]

    outcome = services.apply_many(
        actor(uni.counselor_cs, "bulk"), uni.batch, step(uni.batch, "院系离校"), items
    )

    assert outcome.changed == [ready.id]
    assert outcome.unchanged == [done.id]
    refused = {(form_id, code) for form_id, code, _message in outcome.refused}
    assert refused == {
        (ready.id, "duplicate"),
        (uni.form_cs2.id, "gate"),
        (uni.form_lit.id, "scope"),
    }
    assert all(message for _f, _c, message in outcome.refused)
    assert state(ready, "院系离校") == State.PASSED
    assert state(uni.form_cs2, "院系离校") == State.PENDING
    assert state(uni.form_lit, "院系离校") == State.PENDING
    new_events = list(Event.objects.filter(id__gt=0).order_by("id"))[events_before:]
    assert {e.group for e in new_events} == {outcome.group}
    assert [e.action for e in new_events] == ["clearance.record.passed", "clearance.bulk.applied"]
    summary = new_events[-1]
    assert summary.source == "bulk" and summary.actor == uni.counselor_cs
    assert summary.data["changed"] == 1 and summary.data["unchanged"] == 1
    assert summary.data["refused_count"] == 3
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_bulk_refuses_a_step_that_does_not_apply(uni):
    outcome = services.apply_many(
        actor(uni.counselor_cs, "bulk"),
        uni.batch,
        step(uni.batch, "组织关系转移"),
        [Item(uni.form.id, State.PASSED), Item(uni.form_cs2.id, State.PASSED)],
    )
    assert outcome.changed == [uni.form.id]
    assert [(fid, code) for fid, code, _m in outcome.refused] == [
        (uni.form_cs2.id, "not_applicable")
    ]
    assert state(uni.form_cs2, "组织关系转移") == State.NOT_REQUIRED


def test_bulk_pass_by_a_department_is_one_audit_group(uni):
    forms = [uni.form, uni.form_cs2, uni.form_lit]
    outcome = services.apply_many(
        actor(uni.library, "bulk"),
        uni.batch,
        step(uni.batch, "图书馆"),
        [Item(form.id, State.PASSED, note="集中办理") for form in forms],
    )
    assert sorted(outcome.changed) == sorted(form.id for form in forms)
    group = Event.objects.filter(group=outcome.group)
    assert group.filter(action="clearance.record.passed").count() == 3
    assert group.filter(action="clearance.bulk.applied").count() == 1
    assert all(state(form, "图书馆") == State.PASSED for form in forms)


# ---------------------------------------------------------------------------------------------
# service window and enabled


def move_window(batch, opens, closes) -> Batch:
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(opens_at=now + opens, closes_at=now + closes)
    batch.refresh_from_db()
    return batch


def test_handlers_cannot_act_before_the_window_opens(uni):
    b = move_window(uni.batch, timedelta(days=2), timedelta(days=30))
    with pytest.raises(services.Closed) as exc:
        services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    assert "尚未开始办理" in str(exc.value)
    assert f"{timezone.localtime(b.opens_at):%Y-%m-%d %H:%M}" in str(exc.value)
    assert state(uni.form, "图书馆") == State.PENDING
    services.pass_record(actor(uni.office), record(uni.form, "图书馆").id)
    assert state(uni.form, "图书馆") == State.PASSED


def test_handlers_cannot_act_after_the_window_closes(uni):
    b = move_window(uni.batch, -timedelta(days=30), -timedelta(hours=1))
    with pytest.raises(services.Closed) as exc:
        services.pass_record(actor(uni.counselor_cs), record(uni.form, "组织关系转移").id)
    assert "结束办理" in str(exc.value)
    assert f"{timezone.localtime(b.closes_at):%Y-%m-%d %H:%M}" in str(exc.value)
    with pytest.raises(services.Closed):
        services.apply_many(
            actor(uni.library, "bulk"), b, step(b, "图书馆"), [Item(uni.form.id, State.PASSED)]
        )
    assert state(uni.form, "组织关系转移") == State.PENDING
    services.pass_record(actor(uni.office), record(uni.form, "组织关系转移").id)
    assert state(uni.form, "组织关系转移") == State.PASSED


def test_disabled_batch_is_not_found_for_handlers_but_open_to_the_office(uni):
    Batch.objects.filter(pk=uni.batch.pk).update(enabled=False)
    for user, title in [(uni.library, "图书馆"), (uni.counselor_cs, "组织关系转移")]:
        with pytest.raises(services.NotFound):
            services.pass_record(actor(user), record(uni.form, title).id)
    assert state(uni.form, "图书馆") == State.PENDING
    services.pass_record(actor(uni.office), record(uni.form, "图书馆").id)
    assert state(uni.form, "图书馆") == State.PASSED


# ---------------------------------------------------------------------------------------------
# sync precedence


def sync(batch, title, form, to_state, reason=""):
    return services.apply_many(
        Actor.system("sync"), batch, step(batch, title), [Item(form.id, to_state, reason=reason)]
    )


def test_sync_does_not_revert_a_manual_pass_when_manual_wins(uni):
    Step.objects.filter(category=uni.category, title="图书馆").update(precedence="manual_wins")
    services.pass_record(actor(uni.library), record(uni.form, "图书馆").id, note="现场核对已还")
    outcome = sync(uni.batch, "图书馆", uni.form, State.PENDING, reason="未还图书 2 册")
    assert outcome.unchanged == [uni.form.id]
    rec = record(uni.form, "图书馆")
    assert (rec.state, rec.source, rec.handled_by) == (State.PASSED, Source.DESK, uni.library)
    # A pass the sync itself made is the sync's to take back.
    services.revoke_record(actor(uni.library), rec.id)
    sync(uni.batch, "图书馆", uni.form, State.PASSED)
    sync(uni.batch, "图书馆", uni.form, State.PENDING, reason="未还图书 1 册")
    rec.refresh_from_db()
    assert (rec.state, rec.reason) == (State.PENDING, "未还图书 1 册")


def test_sync_reverts_a_manual_pass_when_the_source_wins(uni):
    services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    outcome = sync(uni.batch, "图书馆", uni.form, State.PENDING, reason="未还图书 2 册")
    assert outcome.changed == [uni.form.id]
    rec = record(uni.form, "图书馆")
    assert (rec.state, rec.source, rec.reason, rec.handled_by) == (
        State.PENDING,
        Source.SYNC,
        "未还图书 2 册",
        None,
    )
    event = Event.objects.filter(record=rec).latest("id")
    assert (event.action, event.source, event.actor) == ("clearance.record.revoked", "sync", None)
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


# ---------------------------------------------------------------------------------------------
# applicability re-evaluated


def change_politics(student, status):
    student.political_status = status
    student.save(update_fields=["political_status"])


def test_becoming_a_party_member_makes_the_party_step_pending(uni):
    change_politics(uni.student_cs2, "中共预备党员")
    changed = services.reapply_conditions(Actor.system("roster"), uni.batch, [uni.form_cs2.id])
    assert changed == 1
    assert state(uni.form_cs2, "组织关系转移") == State.PENDING
    event = Event.objects.get(form=uni.form_cs2, action="clearance.record.applicable")
    assert (event.from_state, event.to_state, event.source) == ("not_required", "pending", "roster")
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    assert services.reapply_conditions(Actor.system("roster"), uni.batch) == 0  # idempotent


def test_leaving_the_party_greys_the_step_and_can_complete_the_form(uni):
    for title in ("图书馆", "财务处", "学生公寓", "校友会登记"):
        services.pass_record(actor(uni.office), record(uni.form, title).id)
    with pytest.raises(Refused):
        services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    change_politics(uni.student, "群众")
    assert services.reapply_conditions(Actor.system("roster"), uni.batch) == 1
    assert state(uni.form, "组织关系转移") == State.NOT_REQUIRED
    assert (
        Event.objects.filter(form=uni.form, action="clearance.record.not_applicable").count() == 1
    )
    services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    assert completed(uni.form)
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_a_step_becoming_applicable_reopens_a_passed_final(uni):
    f.pass_prerequisites(uni.form_cs2, uni.office)
    services.pass_record(actor(uni.counselor_cs), record(uni.form_cs2, "院系离校").id)
    assert completed(uni.form_cs2)
    change_politics(uni.student_cs2, "中共党员")
    assert services.reapply_conditions(Actor.system("roster"), uni.batch, [uni.form_cs2.id]) == 2
    assert state(uni.form_cs2, "组织关系转移") == State.PENDING
    assert state(uni.form_cs2, "院系离校") == State.PENDING
    assert not completed(uni.form_cs2)
    reopened = Event.objects.get(form=uni.form_cs2, action="clearance.record.reopened")
    assert reopened.source == "cascade"
    assert (
        "学生信息变化" in reopened.note and "撤销" not in reopened.note
    )  # the log says the true why
    assert uni.counselor_cs.notifications.count() == 1
    assert uni.counselor_lit.notifications.count() == 0
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    assert f.broken_forms(uni.batch) == []


# ---------------------------------------------------------------------------------------------
# nothing half-done


@pytest.fixture
def failing_event_insert(monkeypatch):
    real = sqlbulk.insert

    def insert(table, columns, rows):
        if table == Event._meta.db_table:
            raise RuntimeError("disk full while writing the audit log")
        return real(table, columns, rows)

    monkeypatch.setattr(sqlbulk, "insert", insert)


def test_a_crash_while_writing_the_audit_log_leaves_nothing_changed(uni, request):
    f.pass_prerequisites(uni.form, uni.office)
    services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    before = snapshot(uni.batch)
    request.getfixturevalue("failing_event_insert")
    with pytest.raises(RuntimeError):
        services.apply_many(
            actor(uni.library, "bulk"),
            uni.batch,
            step(uni.batch, "图书馆"),
            [
                Item(form.id, State.PENDING if form == uni.form else State.PASSED)
                for form in (uni.form, uni.form_cs2, uni.form_lit)
            ],
        )
    with pytest.raises(RuntimeError):
        services.revoke_record(actor(uni.counselor_cs), record(uni.form, "组织关系转移").id)
    assert snapshot(uni.batch) == before
    assert state(uni.form, "院系离校") == State.PASSED and completed(uni.form)


# ---------------------------------------------------------------------------------------------
# counters equal a recount, whatever happens


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_work_keeps_counters_and_completion_true(uni, seed):
    rnd = random.Random(seed)
    mine = f.staff("T1003", "王老师", college=uni.lit)
    for title in ("组织关系转移", "院系离校"):
        f.grant(uni.batch, title, mine, scope="mine")
    extra = [
        f.enrolled(
            uni.batch,
            "2022000011",
            "黄同学",
            uni.cs,
            counselor=uni.counselor_cs,
            political="中共预备党员",
        ),
        f.enrolled(
            uni.batch, "2022000013", "何同学", uni.lit, counselor=mine, political="中共党员"
        ),
        f.enrolled(uni.batch, "2022000015", "罗同学", uni.lit, counselor=mine),
    ]
    forms = [uni.form, uni.form_cs2, uni.form_lit, *extra]
    personas = [
        uni.library,
        uni.finance,
        uni.dorm,
        uni.counselor_cs,
        uni.counselor_lit,
        mine,
        uni.office,
        uni.outsider,
    ]
    steps = list(Step.objects.filter(category=uni.category))
    holders = {s.id: [g.user for g in s.grants.all()] + [uni.office] for s in steps}

    def someone(the_step):  # mostly a person who may handle the step, so that forms progress
        return rnd.choice(holders[the_step.id] if rnd.random() < 0.8 else personas)

    for _ in range(100):
        kind = rnd.random()
        the_step = rnd.choice(steps)
        to_state = rnd.choice([State.PASSED, State.PASSED, State.PASSED, State.PENDING])
        if kind < 0.6:
            form = rnd.choice(forms)
            try:
                services.set_state(
                    actor(someone(the_step)), record(form, the_step.title).id, to_state
                )
            except (Refused, services.NotFound):
                pass
        elif kind < 0.8:
            chosen = [Item(rnd.choice(forms).id, to_state) for _ in range(4)]
            services.apply_many(actor(someone(the_step), "bulk"), uni.batch, the_step, chosen)
        elif kind < 0.9:
            the_step = Step.objects.get(pk=rnd.choice([s.pk for s in steps if s.automatic]))
            the_step.precedence = rnd.choice(["source", "manual_wins"])
            services.apply_many(
                Actor.system("sync"),
                uni.batch,
                the_step,
                [Item(fm.id, rnd.choice([State.PASSED, State.PENDING])) for fm in forms],
            )
        else:
            student = rnd.choice(forms).student
            change_politics(student, rnd.choice(["中共党员", "群众", "共青团员"]))
            services.reapply_conditions(Actor.system("roster"), uni.batch)
        assert queries.tallies(uni.batch) == queries.recount(uni.batch)
        assert f.broken_forms(uni.batch) == []
    # The walk did real work, not a hundred refusals.
    assert Event.objects.filter(action="clearance.record.passed").count() > 10
    assert Event.objects.filter(action="clearance.record.revoked").exists()
