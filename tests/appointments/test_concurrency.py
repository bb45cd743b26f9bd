"""A slot never holds more than its capacity under concurrent bookings, and no booking survives a
pass of its step that raced it: real threads on PostgreSQL (row locks), a child process on a
SQLite file (IMMEDIATE transactions)."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from lixiao.appointments import services
from lixiao.appointments.models import HOLDING, OPEN, Booking
from lixiao.clearance import services as core
from lixiao.clearance.models import Record, State
from lixiao.clearance.rules import Refused
from tests import factories as f
from tests.appointments.conftest import at, make_plan, student
from tests.races import prepare_child_database, run_sqlite_race

CAPACITY = 3
ROUNDS = 6
SLOTS = [at(1, 9 + i // 2, 30 * (i % 2)) for i in range(ROUNDS)]  # tomorrow 9:00, 9:30, …


def students(uni, n: int) -> list:
    return [
        f.enrolled(uni.batch, f"20229{i:05d}", f"学生{i}", uni.cs, counselor=uni.counselor_cs)
        for i in range(n)
    ]


def race(uni, forms, rounds: int) -> tuple[list[BaseException], list[int]]:
    """Each round every student books the same slot at the same moment (moving their booking
    from the last round's), while a handler passes one of them; once all are done the slot's
    held places are counted, then a third of the students cancel. Returns the errors and the
    places held in each round's slot."""
    errors: list[BaseException] = []
    held: list[int] = []
    go = threading.Barrier(len(forms) + 2)  # the students, the handler, this thread

    def book(form, n: int) -> None:
        record_id = Record.objects.get(form=form, step__title="学生公寓").id
        actor = student(form.student.user)
        try:
            for i in range(rounds):
                go.wait()  # start together
                booking = None
                try:
                    booking = services.book(actor, record_id, SLOTS[i])
                except Refused:
                    pass  # full, or the step passed meanwhile: both are right answers
                go.wait()  # all done: the places are counted
                go.wait()
                if booking is not None and n % 3 == 2:
                    try:
                        services.cancel(actor, booking.id)
                    except Refused:
                        pass  # released: the handler passed the step meanwhile
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            go.abort()
            errors.append(exc)
        finally:
            connection.close()

    def handle() -> None:
        actor = core.Actor(uni.dorm, "desk")
        passing = forms[::2]
        try:
            for i in range(rounds):
                go.wait()
                for form in passing[i::rounds]:
                    record = Record.objects.get(form=form, step__title="学生公寓")
                    core.pass_record(actor, record.id)
                go.wait()
                go.wait()
        except BaseException as exc:  # noqa: BLE001
            go.abort()
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=book, args=(form, n)) for n, form in enumerate(forms)]
    pool.append(threading.Thread(target=handle))
    for t in pool:
        t.start()
    try:
        for i in range(rounds):
            go.wait()
            go.wait()
            held.append(
                Booking.objects.filter(slot__starts_at=SLOTS[i], status__in=HOLDING).count()
            )
            go.wait()
    except threading.BrokenBarrierError:
        pass  # a worker failed: its error is reported
    for t in pool:
        t.join()
    return errors, held


def assert_consistent(forms) -> int:
    for starts_at in SLOTS:
        held = Booking.objects.filter(slot__starts_at=starts_at, status__in=HOLDING).count()
        assert held <= CAPACITY, f"{held} bookings in a slot of {CAPACITY}"
    passed = Record.objects.filter(
        form__in=forms, step__title="学生公寓", state=State.PASSED
    ).values_list("form_id", flat=True)
    assert not Booking.objects.filter(OPEN, form_id__in=list(passed)).exists()
    active = Booking.objects.filter(OPEN).values_list("form_id", flat=True)
    assert len(active) == len(set(active))  # one waiting booking per student and step
    return Booking.objects.count()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL race (row locks)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_exceed_capacity_on_postgresql(uni):
    make_plan(uni, capacity=CAPACITY)
    forms = students(uni, 12)
    errors, held = race(uni, forms, rounds=ROUNDS)
    assert errors == []
    # Twelve students at once on a slot of three, every round: it fills up, and no further.
    assert max(held) == CAPACITY and all(n <= CAPACITY for n in held), held
    assert assert_consistent(forms) > 2 * CAPACITY  # the race really booked, moved and cancelled


# The SQLite race runs in a child process on a file database (tests/races.py says why).
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite race runs on SQLite")
def test_concurrent_bookings_never_exceed_capacity_on_a_sqlite_file(tmp_path):
    run_sqlite_race(tmp_path, "tests.appointments.test_concurrency")


def sqlite_race() -> None:
    """Run in a child process against a fresh SQLite file (see the test above)."""
    from lixiao.directory.models import College

    prepare_child_database()
    cs = College.objects.create(code="CS", name="计算机与信息科学学院")
    category = f.category()
    b = f.batch(category)
    uni = SimpleNamespace(
        cs=cs,
        batch=b,
        category=category,
        counselor_cs=f.staff("T1001", "张老师", college=cs),
        dorm=f.staff("D4001", "公寓刘老师"),
        office=f.staff("A0001", "管理员", is_office=True),
    )
    f.grant(b, "学生公寓", uni.dorm)
    make_plan(uni, capacity=CAPACITY)
    forms = students(uni, 6)  # lighter: SQLite queues every writer
    errors, held = race(uni, forms, rounds=ROUNDS)
    assert errors == [], errors
    assert max(held) == CAPACITY and all(n <= CAPACITY for n in held), held
    assert assert_consistent(forms) > CAPACITY
    print("race: consistent")
