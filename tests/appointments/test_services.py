"""The appointments' writer: who may set a plan, booking within capacity, change, cancel,
check-in and no-show within the gate, and bookings closed when their step is passed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lixiao.appointments import services
from lixiao.appointments.models import Booking, Plan
from lixiao.clearance import services as core
from lixiao.clearance.models import Category, Event, Form, Step
from lixiao.clearance.rules import Refused
from tests import factories as f
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record

pytestmark = pytest.mark.django_db


def desk(user):
    return core.Actor(user, "desk", client_ip="10.1.1.1")


# --- settings ---------------------------------------------------------------------------------


def test_the_office_and_the_department_set_a_plan_others_are_refused(uni):
    dorm_step = Step.objects.get(category=uni.category, title="学生公寓")
    before = Category.objects.get(pk=uni.category.pk).changed_at
    plan = make_plan(uni, capacity=3)
    assert (plan.capacity, plan.enabled, len(plan.hours)) == (3, True, 7)
    event = Event.objects.get(action="appointments.plan.created")
    assert event.actor == uni.office and event.data["step"] == dorm_step.id
    # Every student page of the category says the step now takes appointments.
    assert Category.objects.get(pk=uni.category.pk).changed_at > before

    data = services.PlanData(True, 20, 4, 3, [[]] * 6 + [[(at(0, 9).time(), at(0, 12).time())]], [])
    services.save_plan(
        desk(uni.dorm), uni.batch, dorm_step, data
    )  # the dorm handles it school-wide
    plan.refresh_from_db()
    assert (plan.slot_minutes, plan.capacity, plan.hours[6]) == (20, 4, [["09:00", "12:00"]])
    changes = Event.objects.get(action="appointments.plan.updated").data["changes"]
    assert changes["capacity"] == [3, 4] and "enabled" not in changes

    final = Step.objects.get(category=uni.category, title="院系离校")
    for who, step in (
        (uni.counselor_cs, final),
        (uni.library, dorm_step),
        (uni.outsider, dorm_step),
    ):
        with pytest.raises(core.Forbidden):
            services.save_plan(desk(who), uni.batch, step, data)
    assert not Plan.objects.filter(step=final).exists()
    library = Step.objects.get(category=uni.category, title="图书馆")
    with pytest.raises(Refused, match="自动办理"):
        services.save_plan(core.Actor(uni.office, "admin"), uni.batch, library, data)


def test_settings_that_give_no_slot_are_refused_with_a_sentence(uni):
    step = Step.objects.get(category=uni.category, title="学生公寓")
    short = services.PlanData(True, 60, 2, 7, [[(at(0, 9).time(), at(0, 9, 30).time())]] * 7, [])
    with pytest.raises(Refused, match="没有一个完整的时段"):
        services.save_plan(core.Actor(uni.office, "admin"), uni.batch, step, short)
    zero = services.PlanData(True, 30, 0, 7, [[(at(0, 9).time(), at(0, 12).time())]] * 7, [])
    with pytest.raises(Refused, match="可约人数"):
        services.save_plan(core.Actor(uni.office, "admin"), uni.batch, step, zero)
    assert not Plan.objects.exists()


# --- booking ----------------------------------------------------------------------------------


def dorm(form):
    return record(form, "学生公寓")


def test_a_student_books_changes_and_cancels_one_slot(uni, plan):
    changed = Form.objects.get(pk=uni.form.pk).changed_at
    booking = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    assert booking.status == "booked" and booking.slot.starts_at == at(1, 9)
    assert booking.slot.ends_at == at(1, 9, 30)
    assert Form.objects.get(pk=uni.form.pk).changed_at > changed  # the cached page shows it
    created = Event.objects.get(action="appointments.booking.created")
    assert (created.actor, created.form_id, created.source) == (
        uni.student.user,
        uni.form.id,
        "portal",
    )
    assert created.client_ip == "10.9.8.7"

    moved = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 10))
    booking.refresh_from_db()
    assert booking.status == "cancelled" and moved.status == "booked"
    assert Event.objects.get(action="appointments.booking.changed").data["from"].endswith("09:00")
    # The same slot again changes nothing.
    assert services.book(student(uni.student.user), dorm(uni.form).id, at(1, 10)).id == moved.id

    services.cancel(student(uni.student.user), moved.id)
    moved.refresh_from_db()
    assert moved.status == "cancelled" and moved.closed_at is not None
    assert Event.objects.filter(action="appointments.booking.cancelled").count() == 1
    with pytest.raises(Refused, match="已结束"):
        services.cancel(student(uni.student.user), moved.id)


def test_a_slot_never_holds_more_than_its_capacity(uni, plan):
    third = f.enrolled(uni.batch, "2022000007", "吴同学", uni.cs)
    services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    services.book(student(uni.student_cs2.user), dorm(uni.form_cs2).id, at(1, 9))
    with pytest.raises(Refused, match="已约满"):
        services.book(student(third.student.user), dorm(third).id, at(1, 9))
    assert Booking.objects.filter(slot__starts_at=at(1, 9), status="booked").count() == 2
    # A cancellation gives the place back at once.
    mine = Booking.objects.get(form=uni.form)
    services.cancel(student(uni.student.user), mine.id)
    assert services.book(student(third.student.user), dorm(third).id, at(1, 9)).status == "booked"


@pytest.mark.parametrize(
    "when, error",
    [
        ((1, 9, 10), "不可预约"),  # not a slot of the grid
        ((1, 23, 45), "不可预约"),  # after the last slot
        ((9, 9), "不可预约"),  # further ahead than days_ahead (7)
        ((-1, 9), "不可预约"),  # yesterday
    ],
)
def test_only_offered_slots_can_be_booked(uni, plan, when, error):
    with pytest.raises(Refused, match=error):
        services.book(student(uni.student.user), dorm(uni.form).id, at(*when))
    assert not Booking.objects.exists()


def test_a_started_slot_and_a_closed_date_are_refused(uni):
    make_plan(uni, closed=[timezone.localdate() + timedelta(days=2)])
    with pytest.raises(Refused, match="已开始"):
        services.book(student(uni.student.user), dorm(uni.form).id, at(0, 9), now=at(0, 9, 5))
    with pytest.raises(Refused, match="不可预约"):
        services.book(student(uni.student.user), dorm(uni.form).id, at(2, 9))


def test_no_booking_without_an_open_plan_a_pending_step_or_an_open_batch(uni):
    with pytest.raises(Refused, match="未开放预约"):
        services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    make_plan(uni, enabled=False)
    with pytest.raises(Refused, match="未开放预约"):
        services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    make_plan(uni)
    core.pass_record(desk(uni.dorm), dorm(uni.form).id)
    with pytest.raises(Refused, match="不需要预约"):
        services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    uni.batch.closes_at = timezone.now() - timedelta(minutes=1)
    uni.batch.opens_at = timezone.now() - timedelta(days=2)
    uni.batch.save()
    with pytest.raises(Refused, match="服务时间"):
        services.book(student(uni.student_cs2.user), dorm(uni.form_cs2).id, at(1, 9))
    assert not Booking.objects.exists()


def test_nobody_books_or_cancels_for_someone_else(uni, plan):
    with pytest.raises(core.NotFound):
        services.book(student(uni.student_lit.user), dorm(uni.form).id, at(1, 9))
    booking = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    with pytest.raises(core.NotFound):
        services.cancel(student(uni.student_lit.user), booking.id)
    with pytest.raises(core.NotFound):
        services.cancel(student(uni.dorm), booking.id)
    booking.refresh_from_db()
    assert booking.status == "booked"


# --- the desk ---------------------------------------------------------------------------------


def today_booking(uni, form=None, hour=0):
    """A booking for a slot of today, made early this morning."""
    form = form or uni.form
    user = form.student.user
    return services.book(
        student(user), dorm(form).id, at(0, hour), now=at(0, hour) - timedelta(minutes=1)
    )


def test_check_in_is_today_only_in_scope_and_idempotent(uni, plan):
    booking = today_booking(uni)
    with pytest.raises(core.NotFound):
        services.check_in(desk(uni.library), booking.id)  # not a step of theirs
    with pytest.raises(core.NotFound):
        services.check_in(desk(uni.counselor_cs), booking.id)
    arrived = services.check_in(desk(uni.dorm), booking.id)
    assert arrived.status == "arrived" and arrived.arrived_at is not None
    assert services.check_in(desk(uni.dorm), booking.id).status == "arrived"
    assert Event.objects.filter(action="appointments.booking.arrived").count() == 1
    later = services.book(student(uni.student_cs2.user), dorm(uni.form_cs2).id, at(1, 9))
    with pytest.raises(Refused, match="不是今天"):
        services.check_in(desk(uni.dorm), later.id)


def test_no_show_only_after_the_slot_began_and_the_student_may_book_again(uni, plan):
    ahead = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    with pytest.raises(Refused, match="尚未开始"):
        services.mark_no_show(desk(uni.dorm), ahead.id)
    services.cancel(student(uni.student.user), ahead.id)
    missed = today_booking(uni)
    services.mark_no_show(desk(uni.dorm), missed.id)
    missed.refresh_from_db()
    assert missed.status == "no_show"
    again = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 11))
    assert again.status == "booked"


def test_a_scanned_code_checks_in_todays_bookings_on_my_steps(uni, plan):
    from lixiao.clearance import scope

    booking = today_booking(uni)
    reach = scope.reach(uni.library, uni.batch.id)
    assert services.arrive_by_code(desk(uni.library), reach, uni.form.id) == []
    reach = scope.reach(uni.dorm, uni.batch.id)
    arrived = services.arrive_by_code(desk(uni.dorm), reach, uni.form.id)
    assert [b.id for b in arrived] == [booking.id]
    assert services.arrive_by_code(desk(uni.dorm), reach, uni.form.id) == []  # already
    booking.refresh_from_db()
    assert booking.status == "arrived"


# --- closing when the step leaves pending -----------------------------------------------------


def test_passing_the_step_serves_todays_booking_and_releases_a_later_one(uni, plan):
    todays = today_booking(uni)
    later = services.book(student(uni.student_cs2.user), dorm(uni.form_cs2).id, at(1, 9))
    changed = Form.objects.get(pk=uni.form_cs2.pk).changed_at
    core.pass_record(desk(uni.dorm), dorm(uni.form).id)
    core.pass_record(desk(uni.dorm), dorm(uni.form_cs2).id)
    todays.refresh_from_db()
    later.refresh_from_db()
    assert todays.status == "served" and later.status == "released"
    assert Form.objects.get(pk=uni.form_cs2.pk).changed_at > changed
    served = Event.objects.get(action="appointments.booking.served")
    assert served.source == "cascade" and served.form_id == uni.form.id
    assert Event.objects.filter(action="appointments.booking.released").count() == 1
    # The released place is free again; the student whose step passed cannot book any more.
    third = f.enrolled(uni.batch, "2022000007", "吴同学", uni.cs)
    services.book(student(third.student.user), dorm(third).id, at(1, 9))
    # A revoke reopens booking for that student (the closed ones stay closed).
    core.revoke_record(desk(uni.dorm), dorm(uni.form_cs2).id)
    later.refresh_from_db()
    assert later.status == "released"
    assert services.book(student(uni.student_cs2.user), dorm(uni.form_cs2).id, at(1, 10))


def test_a_bulk_pass_on_a_step_without_plan_reads_no_bookings(
    uni, plan, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    library = Step.objects.get(category=uni.category, title="图书馆")
    items = [core.Item(fm.id, "passed") for fm in (uni.form, uni.form_cs2, uni.form_lit)]
    with CaptureQueriesContext(connection) as ctx:
        core.apply_many(core.Actor(uni.office, "admin"), uni.batch, library, items)
    sql = [q["sql"] for q in ctx.captured_queries if "appointments_" in q["sql"]]
    assert len(sql) == 1 and "appointments_plan" in sql[0]  # one look for plans, no more


def test_a_rolled_back_pass_keeps_the_booking(uni, plan):
    from django.db import transaction

    booking = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    with pytest.raises(RuntimeError), transaction.atomic():
        core.pass_record(desk(uni.dorm), dorm(uni.form).id)
        raise RuntimeError
    booking.refresh_from_db()
    assert booking.status == "booked"


def test_closing_on_pass_by_day():
    from datetime import date

    day = date(2026, 6, 20)
    assert services.closing_on_pass("booked", day, day) == "served"
    assert services.closing_on_pass("arrived", date(2026, 6, 19), day) == "served"
    assert services.closing_on_pass("booked", date(2026, 6, 19), day) == "no_show"
    assert services.closing_on_pass("booked", date(2026, 6, 21), day) == "released"


def test_a_student_who_came_but_was_not_done_books_another_time(uni, plan):
    came = today_booking(uni)
    services.check_in(desk(uni.dorm), came.id)
    with pytest.raises(Refused, match="已签到"):
        services.cancel(student(uni.student.user), came.id)
    # Something was missing: they come back tomorrow. The arrival stays an arrival.
    again = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    came.refresh_from_db()
    assert (came.status, came.closed_at is not None) == ("arrived", True)
    assert again.status == "booked" and again.closed_at is None
    with pytest.raises(Refused, match="不能签到"):
        services.check_in(desk(uni.dorm), came.id)
    core.pass_record(desk(uni.dorm), dorm(uni.form).id)
    came.refresh_from_db()
    again.refresh_from_db()
    assert came.status == "arrived" and again.status == "released"


def test_an_archived_batch_keeps_its_appointments_as_they_are(uni, plan):
    from lixiao.clearance.models import Batch

    waiting = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    today = today_booking(uni, uni.form_cs2)
    Batch.objects.filter(pk=uni.batch.pk).update(archived_at=timezone.now())
    uni.batch.refresh_from_db()
    attempts = [
        lambda: services.book(student(uni.student_lit.user), dorm(uni.form_lit).id, at(1, 10)),
        lambda: services.cancel(student(uni.student.user), waiting.id),
        lambda: services.check_in(desk(uni.dorm), today.id),
        lambda: services.mark_no_show(desk(uni.dorm), today.id),
        lambda: make_plan(uni, capacity=9),
    ]
    for attempt in attempts:
        with pytest.raises(Refused, match="归档") as refused:
            attempt()
        assert refused.value.code == "archived"
    waiting.refresh_from_db()
    today.refresh_from_db()
    assert (waiting.status, today.status) == ("booked", "booked")
    assert Plan.objects.get(pk=plan.pk).capacity == 2


def test_the_retention_purge_keeps_bookings_on_the_anonymised_forms(uni, plan, settings, media):
    from lixiao.clearance.models import Batch
    from tests.clearance.test_purge import archive

    settings.LIXIAO_RETENTION_YEARS = 3
    booking = services.book(student(uni.student.user), dorm(uni.form).id, at(1, 9))
    archive(uni.batch, 4, core.Actor(uni.office, "admin"))
    core.purge_personal_data(core.Actor.system("admin"))
    booking.refresh_from_db()
    assert booking.form_id == uni.form.id and Form.objects.get(pk=uni.form.pk).purged_at
    assert Batch.objects.get(pk=uni.batch.pk).archived_at is not None
