"""The raw-SQL baselines (the ratio's denominators), straight on the DB-API cursor, no ORM.

These write Record/Event rows themselves only because they are the yardstick: they run on
the benchmark's throwaway database, never through the product.
"""

import uuid
from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance import rules
from lixiao.clearance.models import State, Step
from lixiao.directory.services import StudentRow

USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "username",
    "name",
    "email",
    "is_active",
    "is_staff",
    "is_office",
    "is_auditor",
    "uses_initial_password",
    "initial_password_since",
    "date_joined",
)
STUDENT_COLUMNS = (
    "id",
    "user_id",
    "student_number",
    "id_number_enc",
    "id_number_hash",
    "id_number_masked",
    "name",
    "gender",
    "college_id",
    "major",
    "class_name",
    "student_type",
    "political_status",
    "dormitory",
    "phone",
)
FORM_COLUMNS = (
    "id",
    "batch_id",
    "student_id",
    "college_id",
    "counselor_id",
    "completed_at",
    "created_at",
)
RECORD_COLUMNS = ("id", "form_id", "step_id", "state", "note", "source", "reason")
EVENT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "batch_id",
    "form_id",
    "record_id",
    "step_id",
    "from_state",
    "to_state",
    "source",
    "note",
    "client_ip",
    "group",
    "data",
)


def _cursor():
    connection.ensure_connection()
    return connection.connection.cursor()


def _sql(text: str) -> str:
    """Write SQL once with %s; SQLite's own driver wants ?."""
    return text if sqlbulk.is_postgres() else text.replace("%s", "?")


def _write(cursor, table: str, columns: Sequence[str], rows) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    if sqlbulk.is_postgres():
        with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)


def next_ids() -> dict[str, int]:
    """First free id of each seeded table (outside the timer: the raw path picks its own ids)."""
    cursor = _cursor()
    ids = {}
    for table in ("directory_user", "directory_student", "clearance_form", "clearance_record"):
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')
        ids[table] = cursor.fetchone()[0]
    return ids


def seed(
    batch,
    steps: Sequence[Step],
    rows: Sequence[StudentRow],
    crypto: Sequence[tuple],
    college_codes: dict[int, str],
    counselor: dict[int, int],
    ids: dict[str, int],
) -> None:
    """Users, students, forms and records of a roster in one transaction, tuples built here.

    `crypto` holds each row's (encrypted, hash, masked) ID number, computed before the timer.
    """
    now = sqlbulk.adapt(timezone.now())
    u0, s0, f0, r0 = (
        ids[t]
        for t in ("directory_user", "directory_student", "clearance_form", "clearance_record")
    )
    info = [rules.StepInfo(s.id, s.title, s.required, s.is_final) for s in steps]
    rule = batch.category.completion_rule
    with transaction.atomic():
        cursor = _cursor()
        _write(
            cursor,
            "directory_user",
            USER_COLUMNS,
            [
                (
                    u0 + i,
                    "!",
                    False,
                    r.student_number,
                    r.name,
                    "",
                    True,
                    False,
                    False,
                    False,
                    True,
                    now,
                    now,
                )
                for i, r in enumerate(rows)
            ],
        )
        _write(
            cursor,
            "directory_student",
            STUDENT_COLUMNS,
            [
                (
                    s0 + i,
                    u0 + i,
                    r.student_number,
                    *crypto[i],
                    r.name,
                    r.gender,
                    r.college_id,
                    r.major,
                    r.class_name,
                    r.student_type,
                    r.political_status,
                    r.dormitory,
                    r.phone,
                )
                for i, r in enumerate(rows)
            ],
        )
        states = [
            {
                s.id: rules.initial_state(s.condition, r.attributes(college_codes[r.college_id]))
                for s in steps
            }
            for r in rows
        ]
        _write(
            cursor,
            "clearance_form",
            FORM_COLUMNS,
            [
                (
                    f0 + i,
                    batch.id,
                    s0 + i,
                    r.college_id,
                    counselor.get(r.college_id),
                    now if rules.is_complete(rule, info, states[i]) else None,
                    now,
                )
                for i, r in enumerate(rows)
            ],
        )
        n = len(steps)
        _write(
            cursor,
            "clearance_record",
            RECORD_COLUMNS,
            [
                (r0 + i * n + j, f0 + i, s.id, states[i][s.id], "", "", "")
                for i in range(len(rows))
                for j, s in enumerate(steps)
            ],
        )


def read_form(form_id: int, batch_id: int, college_id: int) -> list[tuple]:
    cursor = _cursor()
    cursor.execute(
        _sql(
            "SELECT f.id, f.completed_at, s.student_number, s.name, s.major, s.class_name, "
            "s.political_status, c.name, b.name, r.id, r.state, r.handled_at, r.note, r.reason, "
            "st.title, st.instructions, st.required "
            "FROM clearance_form f JOIN directory_student s ON s.id = f.student_id "
            "JOIN directory_college c ON c.id = f.college_id JOIN clearance_batch b ON b.id = f.batch_id "
            "JOIN clearance_record r ON r.form_id = f.id JOIN clearance_step st ON st.id = r.step_id "
            'WHERE f.id = %s AND f.batch_id = %s AND f.college_id = %s ORDER BY st."order", st.id'
        ),
        (form_id, batch_id, college_id),
    )
    return cursor.fetchall()


def search(batch_id: int, where: str, value: str) -> tuple[list, int]:
    """A page of 20 plus the count, filtered on one student column (indexed for 学号)."""
    cursor = _cursor()
    joins = (
        "FROM clearance_form f JOIN directory_student s ON s.id = f.student_id "
        "JOIN directory_college c ON c.id = f.college_id "
        f"WHERE f.batch_id = %s AND {where}"
    )
    cursor.execute(
        _sql(
            f"SELECT f.id, s.student_number, s.name, c.name {joins} "
            "ORDER BY s.student_number LIMIT 20"
        ),
        (batch_id, value),
    )
    page = cursor.fetchall()
    cursor.execute(_sql(f"SELECT COUNT(*) {joins}"), (batch_id, value))
    return page, cursor.fetchone()[0]


def statistics(batch_id: int) -> list[tuple]:
    cursor = _cursor()
    cursor.execute(
        _sql(
            "SELECT r.step_id, r.state, COUNT(*) FROM clearance_record r "
            "JOIN clearance_form f ON f.id = r.form_id WHERE f.batch_id = %s GROUP BY r.step_id, r.state"
        ),
        (batch_id,),
    )
    return cursor.fetchall()


def bulk_pass(
    batch_id: int, step_id: int, form_ids: Sequence[int], to_state: str, actor_id: int
) -> None:
    """UPDATE the step's records of these forms and INSERT one audit event each (executemany)."""
    from_state = State.PENDING if to_state == State.PASSED else State.PASSED
    action = "clearance.record.passed" if to_state == State.PASSED else "clearance.record.revoked"
    now = sqlbulk.adapt(timezone.now())
    group = sqlbulk.adapt(uuid.uuid4())
    with transaction.atomic():
        cursor = _cursor()
        found = []
        for part in sqlbulk.chunks(list(form_ids)):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                _sql(
                    f"SELECT id, form_id FROM clearance_record WHERE step_id = %s "
                    f"AND form_id IN ({marks})"
                ),
                (step_id, *part),
            )
            found.extend(cursor.fetchall())
        for part in sqlbulk.chunks([rid for rid, _fid in found]):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                _sql(
                    f"UPDATE clearance_record SET state = %s, handled_by_id = %s, "
                    f"handled_at = %s, source = %s, note = %s WHERE id IN ({marks})"
                ),
                (to_state, actor_id, now, "bulk", "", *part),
            )
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
        cursor.executemany(
            _sql(f"INSERT INTO clearance_event ({cols}) VALUES ({marks})"),
            [
                (
                    now,
                    actor_id,
                    action,
                    batch_id,
                    fid,
                    rid,
                    step_id,
                    from_state,
                    to_state,
                    "bulk",
                    "",
                    None,
                    group,
                    "{}",
                )
                for rid, fid in found
            ],
        )
