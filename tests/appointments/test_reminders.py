"""The day-before reminder: tomorrow's waiting bookings, one notification per student, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from lixiao.appointments import reminders, services
from lixiao.appointments.models import Booking
from lixiao.clearance.models import Event, Step
from lixiao.notify.models import Notification
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record

pytestmark = pytest.mark.django_db


def book(form, title, when):
    return services.book(student(form.student.user), record(form, title).id, when)


def run(*args) -> str:
    out = StringIO()
    call_command("remind_appointments", *args, stdout=out)
    return out.getvalue()


def test_tomorrows_bookings_are_reminded_once_in_one_message_per_student(uni):
    make_plan(uni)
    Step.objects.filter(category=uni.category, title="校友会登记").update(required=False)
    make_plan(uni, title="校友会登记")
    book(uni.form, "学生公寓", at(1, 9))
    book(uni.form, "校友会登记", at(1, 14))
    book(uni.form_cs2, "学生公寓", at(2, 9))  # the day after tomorrow: not yet
    cancelled = book(uni.form_lit, "学生公寓", at(1, 10))
    services.cancel(student(uni.student_lit.user), cancelled.id)

    dry = run("--dry-run")
    assert "将提醒学生 1 人，预约 2 个" in dry and "2022000001" in dry
    assert not Notification.objects.exists()

    assert "已提醒学生 1 人，预约 2 个" in run()
    note = Notification.objects.get(user=uni.student.user)
    assert note.title.startswith("预约提醒")
    assert "“学生公寓”09:00–09:30" in note.body and "“校友会登记”14:00–14:30" in note.body
    assert note.link == "/me/"
    assert Event.objects.get(action=reminders.ACTION).data["bookings"] == 2

    # Twice a day is safe: nothing is sent again.
    assert "已提醒学生 0 人，预约 0 个" in run()
    assert Notification.objects.count() == 1
    assert Event.objects.filter(action=reminders.ACTION).count() == 1


def test_a_moved_booking_is_reminded_again_and_a_passed_step_is_not(uni):
    make_plan(uni)
    book(uni.form, "学生公寓", at(1, 9))
    book(uni.form_cs2, "学生公寓", at(1, 9))
    reminders.remind()
    assert Notification.objects.count() == 2
    book(uni.form, "学生公寓", at(1, 11))  # moved: a new booking, a new reminder
    from lixiao.clearance import services as core

    core.pass_record(core.Actor(uni.dorm, "desk"), record(uni.form_cs2, "学生公寓").id)
    Notification.objects.all().delete()
    run_ = reminders.remind()
    assert [m.user_id for m in run_.messages] == [uni.student.user.id]
    assert "11:00–11:30" in Notification.objects.get().body
    assert Booking.objects.filter(reminded_at__isnull=True, status="booked").count() == 0
