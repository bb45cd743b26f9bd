"""Rule 2 under real concurrency: final-step passes racing prerequisite revokes on one form."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from lixiao.clearance import queries, services
from lixiao.clearance.models import Event, Record, State
from lixiao.clearance.rules import Refused
from tests import factories as f
from tests.conftest import record
from tests.races import prepare_child_database, run_sqlite_race

THREADS = 8
ROUNDS = 25


def run_race(uni, forms, threads=THREADS, rounds=ROUNDS) -> list[BaseException]:
    """Half the threads pass and revoke the final step, half revoke and re-pass prerequisites."""
    final = {form.id: record(form, "院系离校").id for form in forms}
    party = {form.id: record(form, "组织关系转移").id for form in forms}
    library = {form.id: record(form, "图书馆").id for form in forms}
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        counselor = services.Actor(user=uni.counselor_cs, source="desk", client_ip="10.0.0.1")
        librarian = services.Actor(user=uni.library, source="desk", client_ip="10.0.0.2")
        try:
            start.wait()
            for i in range(rounds):
                form_id = forms[(n + i) % len(forms)].id
                try:
                    if n % 4 == 0:
                        services.pass_record(counselor, final[form_id])
                    elif n % 4 == 1:
                        services.pass_record(counselor, final[form_id])
                        services.revoke_record(counselor, final[form_id])
                    elif n % 4 == 2:
                        services.revoke_record(librarian, library[form_id])
                        services.pass_record(librarian, library[form_id])
                    else:
                        services.revoke_record(counselor, party[form_id])
                        services.pass_record(counselor, party[form_id])
                except Refused:
                    pass  # the gate said no: expected while a prerequisite is revoked
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


def assert_history_explains_states(batch) -> int:
    """Replaying every record's audit events in order ends in the record's state; returns how many."""
    replayed: dict[int, str] = {}
    count = 0
    for record_id, from_state, to_state in (
        Event.objects.filter(batch=batch, record__isnull=False)
        .order_by("id")
        .values_list("record_id", "from_state", "to_state")
    ):
        current = replayed.get(record_id, State.PENDING)
        assert from_state == current, (
            f"record {record_id}: event from {from_state} but state was {current}"
        )
        replayed[record_id] = to_state
        count += 1
    for rec in Record.objects.filter(form__batch=batch).exclude(state=State.NOT_REQUIRED):
        assert replayed.get(rec.id, State.PENDING) == rec.state
    return count


def setup_forms(uni) -> list:
    forms = [
        uni.form,
        f.enrolled(
            uni.batch,
            "2022000007",
            "吴同学",
            uni.cs,
            counselor=uni.counselor_cs,
            political="中共党员",
        ),
    ]
    for form in forms:
        f.pass_prerequisites(form, uni.office)
    return forms


def assert_race_left_everything_consistent(uni) -> None:
    assert f.broken_forms(uni.batch) == []
    assert assert_history_explains_states(uni.batch) > 50  # the race really changed things
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    assert Event.objects.filter(action="clearance.record.reopened").exists()


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the PostgreSQL race (row locks); SQLite has its own below",
)
@pytest.mark.django_db(transaction=True)
def test_final_pass_and_prerequisite_revoke_race_on_postgresql(uni):
    forms = setup_forms(uni)
    assert run_race(uni, forms) == []
    assert_race_left_everything_consistent(uni)


# The SQLite race runs in a child process on a file database (tests/races.py says why).
@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite race runs when the tests run on SQLite"
)
def test_final_pass_and_prerequisite_revoke_race_on_a_sqlite_file(tmp_path):
    run_sqlite_race(tmp_path, "tests.clearance.test_concurrency")


def sqlite_race() -> None:
    """Run in a child process against a fresh SQLite file (see the test above)."""
    from lixiao.directory.models import College

    prepare_child_database()
    cs = College.objects.create(code="CS", name="计算机与信息科学学院")
    b = f.batch(f.category())
    uni = SimpleNamespace(
        cs=cs,
        batch=b,
        counselor_cs=f.staff("T1001", "张老师", college=cs),
        library=f.staff("L2001", "图书馆王老师"),
        office=f.staff("A0001", "管理员", is_office=True),
    )
    uni.form = f.enrolled(
        b, "2022000001", "陈同学", cs, counselor=uni.counselor_cs, political="中共党员"
    )
    f.grant(b, "图书馆", uni.library)
    for title in ("组织关系转移", "院系离校"):
        f.grant(b, title, uni.counselor_cs, scope="college", college=cs)
    forms = setup_forms(uni)
    errors = run_race(uni, forms, threads=4, rounds=15)  # lighter: SQLite queues every writer
    assert errors == [], errors
    assert_race_left_everything_consistent(uni)
    print("race: consistent")
