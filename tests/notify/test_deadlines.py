"""Per-step deadline reminders (manage.py remind_deadlines): who is reminded, once a day, cheaply."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from lixiao.clearance import scope, services
from lixiao.clearance.models import Event, Form, Grant, Record, Source, State, Step
from lixiao.notify import deadlines
from lixiao.notify.models import DeadlineReminder, Notification, WebhookDelivery
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


def due_in(uni, title: str, days: int) -> Step:
    step = Step.objects.get(category=uni.category, title=title)
    step.deadline = timezone.localdate() + timedelta(days=days)
    step.save()
    return step


def notes(user) -> list[Notification]:
    """The person's deadline reminders (a pass also notifies the student of its change)."""
    return list(Notification.objects.filter(user=user, title__contains="截止提醒"))


def only_note(user) -> Notification:
    found = notes(user)
    assert len(found) == 1, [n.title for n in found]
    return found[0]


def office_pass(uni, form, title):
    services.pass_record(services.Actor(uni.office, Source.ADMIN), record(form, title).id)


def test_a_student_gets_one_reminder_listing_every_due_step_with_its_date(uni):
    dorm = due_in(uni, "学生公寓", 1)
    library = due_in(uni, "图书馆", -2)  # already passed: still reminded
    due_in(uni, "财务处", 10)  # far away: not yet
    due_in(uni, "组织关系转移", 0)  # applies to the party member only
    deadlines.remind()
    body = only_note(uni.student.user).body
    assert f"“学生公寓”截止 {dorm.deadline:%Y-%m-%d}（还有 1 天）" in body
    assert f"“图书馆”截止 {library.deadline:%Y-%m-%d}（已过截止日期 2 天）" in body
    assert "“组织关系转移”" in body and "今天截止" in body
    assert "财务处" not in body
    other = only_note(uni.student_cs2.user)
    assert "学生公寓" in other.body and "组织关系转移" not in other.body
    assert other.title == f"离校环节截止提醒：{uni.batch.name}" and other.link == "/me/"


def test_a_student_with_nothing_pending_near_a_deadline_is_not_reminded(uni):
    due_in(uni, "学生公寓", 2)
    office_pass(uni, uni.form_lit, "学生公寓")
    deadlines.remind()
    assert notes(uni.student_lit.user) == []
    assert len(notes(uni.student.user)) == 1
    # An optional step not applicable (grey) is never pending: 组织关系转移 for a non-member.
    Notification.objects.all().delete()
    DeadlineReminder.objects.all().delete()
    due_in(uni, "学生公寓", 30)
    due_in(uni, "组织关系转移", 1)
    deadlines.remind()
    assert [
        n.user_id for n in Notification.objects.filter(title__startswith="离校环节截止提醒")
    ] == [uni.student.user_id]


@pytest.mark.parametrize(
    "change",
    [
        {"enabled": False},
        {
            "closes_at": timezone.now() - timedelta(hours=1),
            "opens_at": timezone.now() - timedelta(days=5),
        },
        {
            "opens_at": timezone.now() + timedelta(days=1),
            "closes_at": timezone.now() + timedelta(days=9),
        },
    ],
    ids=["disabled", "closed", "not-yet-open"],
)
def test_nobody_is_reminded_outside_an_enabled_open_batch(uni, change):
    due_in(uni, "学生公寓", 1)
    for name, value in change.items():
        setattr(uni.batch, name, value)
    uni.batch.save()
    plan = deadlines.remind()
    assert plan.students == [] and plan.handlers == []
    assert not Notification.objects.exists()
    assert Event.objects.get(action=deadlines.ACTION).data["students"] == 0


def test_handlers_get_one_reminder_with_their_pending_count_per_step(uni):
    dorm = due_in(uni, "学生公寓", 1)
    due_in(uni, "校友会登记", 3)  # the dorm handler's second step: in the same notification
    due_in(uni, "财务处", 4)  # beyond the 3 days: finance is not reminded
    office_pass(uni, uni.form_lit, "学生公寓")
    deadlines.remind()
    note = only_note(uni.dorm)
    assert f"“学生公寓”：未办理 2 人，截止 {dorm.deadline:%Y-%m-%d}（还有 1 天）" in note.body
    assert "“校友会登记”：未办理 3 人" in note.body
    assert note.link == f"/desk/b/{uni.batch.id}/"
    for nobody in (uni.finance, uni.library, uni.office, uni.outsider, uni.counselor_cs):
        assert notes(nobody) == []


def test_college_handlers_count_only_their_college_and_one_without_backlog_is_left_out(uni):
    due_in(uni, "院系离校", -1)
    f.pass_prerequisites(uni.form_lit, uni.office)
    office_pass(uni, uni.form_lit, "院系离校")
    deadlines.remind()
    assert "“院系离校”：未办理 2 人" in only_note(uni.counselor_cs).body
    assert notes(uni.counselor_lit) == []  # the only 文学院 student has passed it


def test_a_my_students_grant_counts_its_own_students(uni):
    mentor = f.staff("T7001", "导师甲", college=uni.lit)
    Grant.objects.create(
        batch=uni.batch, step=Step.objects.get(category=uni.category, title="学生公寓"),
        user=mentor, scope="mine",
    )  # fmt: skip
    f.enrolled(uni.batch, "2022000101", "甲同学", uni.cs, counselor=mentor)
    f.enrolled(uni.batch, "2022000102", "乙同学", uni.lit, counselor=mentor)
    due_in(uni, "学生公寓", 2)
    deadlines.remind()
    assert "“学生公寓”：未办理 2 人" in only_note(mentor).body
    assert "“学生公寓”：未办理 5 人" in only_note(uni.dorm).body


@pytest.mark.parametrize("dates", [{"ends_on": -1}, {"starts_on": 1}], ids=["expired", "not-yet"])
def test_a_grant_not_in_force_reminds_nobody(uni, dates):
    due_in(uni, "学生公寓", 1)
    today = timezone.localdate()
    Grant.objects.filter(user=uni.dorm).update(
        **{name: today + timedelta(days=n) for name, n in dates.items()}
    )
    deadlines.remind()
    assert notes(uni.dorm) == []
    assert len(notes(uni.student.user)) == 1  # the students are still reminded


def test_handler_counts_equal_a_recount_through_the_gate(uni):
    for title, days in (("图书馆", 0), ("学生公寓", 1), ("组织关系转移", -3), ("院系离校", 2)):
        due_in(uni, title, days)
    f.enrolled(
        uni.batch,
        "2022000201",
        "丙同学",
        uni.lit,
        counselor=uni.counselor_lit,
        political="中共党员",
    )
    office_pass(uni, uni.form, "图书馆")
    office_pass(uni, uni.form_cs2, "学生公寓")
    plan = deadlines.plan()
    bodies = {uid: m.body for m in plan.handlers for uid in m.user_ids}
    checked = 0
    for grant in Grant.objects.filter(batch=uni.batch, step__deadline__isnull=False).select_related(
        "step"
    ):
        forms = Form.objects.filter(scope.reach(grant.user, uni.batch.id).handle_filter(grant.step))
        n = Record.objects.filter(form__in=forms, step=grant.step, state=State.PENDING).count()
        if n:
            assert f"“{grant.step.title}”：未办理 {n} 人" in bodies[grant.user_id]
            checked += 1
        else:
            assert f"“{grant.step.title}”" not in bodies.get(grant.user_id, "")
    assert checked >= 4


def test_one_reminder_a_day_and_again_the_next_day(uni):
    due_in(uni, "学生公寓", 1)
    first = deadlines.remind()
    assert (first.reached("student"), first.reached("handler")) == (3, 1)
    second = deadlines.remind()
    assert (second.reached("student"), second.reached("handler")) == (0, 0)
    assert second.already == {"student": 3, "handler": 1}
    assert Notification.objects.count() == 4
    events = Event.objects.filter(action=deadlines.ACTION).order_by("id")
    assert [e.data["students"] for e in events] == [3, 0]  # one audit event per run
    assert events[0].data["steps"][0]["step_title"] == "学生公寓"
    assert events[0].data["steps"][0]["pending"] == 3
    tomorrow = deadlines.remind(now=timezone.now() + timedelta(days=1))
    assert tomorrow.reached("student") == 3 and "今天截止" in tomorrow.students[0].body
    assert Notification.objects.count() == 8


def test_a_run_racing_another_reminds_nobody_twice(uni, monkeypatch):
    due_in(uni, "学生公寓", 1)
    stale = deadlines.plan()  # planned before the other run's rows existed
    deadlines.remind()
    with pytest.raises(IntegrityError), transaction.atomic():
        deadlines._send(stale)
    plans = iter([stale])
    real = deadlines.plan
    monkeypatch.setattr(deadlines, "plan", lambda *a, **k: next(plans, None) or real(*a, **k))
    again = deadlines.remind()  # first attempt collides, the second plans afresh
    assert again.reached("student") == 0
    assert Notification.objects.filter(user=uni.student.user).count() == 1


def test_dry_run_sends_and_writes_nothing(uni):
    due_in(uni, "学生公寓", 1)
    plan = deadlines.remind(dry_run=True)
    assert plan.reached("student") == 3 and plan.reached("handler") == 1
    assert not Notification.objects.exists()
    assert not DeadlineReminder.objects.exists()
    assert not Event.objects.filter(action=deadlines.ACTION).exists()


def test_the_group_robot_gets_one_summary(uni, settings):
    settings.LIXIAO_WEBHOOK_URL = "http://robot.invalid/hook"
    due_in(uni, "学生公寓", 1)
    deadlines.remind()
    delivery = WebhookDelivery.objects.get()
    assert "“学生公寓”：未办理 3 人" in delivery.payload["text"]["content"]
    deadlines.remind()
    assert WebhookDelivery.objects.count() == 1  # nothing new the second time


def test_inactive_handlers_are_not_reminded(uni):
    due_in(uni, "学生公寓", 1)
    uni.dorm.is_active = False
    uni.dorm.save()
    deadlines.remind()
    assert notes(uni.dorm) == []


def test_queries_do_not_grow_with_students(uni, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    due_in(uni, "学生公寓", 1)
    due_in(uni, "院系离校", -1)
    with CaptureQueriesContext(connection) as small:
        assert deadlines.remind().reached("student") == 3
    Notification.objects.all().delete()
    DeadlineReminder.objects.all().delete()
    more = [
        f.student(f"20220003{i:02d}", f"学生{i}", uni.cs if i % 2 else uni.lit) for i in range(27)
    ]
    f.enrol(uni.batch, more, counselor=uni.counselor_cs)
    with django_assert_max_num_queries(len(small)):
        assert deadlines.remind().reached("student") == 30


def test_the_command_prints_and_sends(uni):
    due_in(uni, "学生公寓", 1)
    out = StringIO()
    call_command("remind_deadlines", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "试运行" in text and "学生：将提醒 3 人" in text and "D4001（公寓刘老师）" in text
    assert not Notification.objects.exists()
    out = StringIO()
    call_command("remind_deadlines", stdout=out)
    assert "学生：已提醒 3 人" in out.getvalue() and "办理人员：已提醒 1 人" in out.getvalue()
    assert Notification.objects.count() == 4
    out = StringIO()
    call_command("remind_deadlines", "--days", "0", stdout=out)
    assert re.search(r"截止日期在 0 天内或已过的环节 0 个", out.getvalue())


def test_the_command_refuses_a_bad_interval():
    with pytest.raises(CommandError, match="1d"):
        call_command("remind_deadlines", "--every", "daily")
