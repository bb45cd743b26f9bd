"""Fast bulk SQL below every layer: executemany on SQLite, COPY on PostgreSQL, upserts of totals.

Django's bulk_create costs 4-5x raw inserts at roster scale (DESIGN.md), so the writer's and the
importers' bulk paths insert prepared tuples here. It knows tables and columns, never a Lixiao
model: any layer may use it, and it imports nothing of Lixiao. Values must already be database-ready
(see `adapt`), and every call runs inside the caller's transaction.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection

CHUNK = 4000  # ids per IN (...) list: well below SQLite's variable limit


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def adapt(value):
    """Turn a Python value into what both drivers accept the same way."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, uuid.UUID):
        return value if is_postgres() else value.hex
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def insert(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})", list(rows))


def chunks(ids: Sequence, size: int = CHUNK):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def pairs(table: str, key: str, value: str, keys: Sequence, **equal) -> dict:
    """{key: value} of the rows whose `key` is one of `keys` (and whose columns equal `equal`).

    Plain SQL by chunks: at roster scale the ORM's per-parameter work on IN lists costs
    more than the query itself.
    """
    qn = connection.ops.quote_name
    where = "".join(f"{qn(column)} = %s AND " for column in equal)
    found: dict = {}
    with connection.cursor() as cursor:
        for part in chunks(list(keys)):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT {qn(key)}, {qn(value)} FROM {qn(table)} WHERE {where}{qn(key)} IN ({marks})",
                [*equal.values(), *part],
            )
            found.update(cursor.fetchall())
    return found


def select_in(table: str, columns: Sequence[str], key: str, keys: Sequence) -> list[tuple]:
    """SELECT columns FROM table WHERE key IN (keys), by chunks, as plain tuples."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for part in chunks(list(keys)):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"SELECT {cols} FROM {qn(table)} WHERE {qn(key)} IN ({marks})", part)
            rows.extend(cursor.fetchall())
    return rows


def refresh_statistics() -> None:
    """Let SQLite's planner see a bulk load (PostgreSQL's autovacuum analyses by itself).

    Without statistics SQLite guesses that "batch = ?" narrows more than a 学号 range and
    scans the whole batch (30 ms instead of 0.1 ms at 50,000 forms). A sampled ANALYZE
    costs a few milliseconds.
    """
    if not is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit = 1000")
            cursor.execute("ANALYZE")


def update_where_in(table: str, assignments: dict, ids: Sequence[int]) -> None:
    """UPDATE table SET a=%s, … WHERE id IN (…) for many ids that take the same values."""
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(k)} = %s" for k in assignments)
    values = [adapt(v) for v in assignments.values()]
    with connection.cursor() as cursor:
        for part in chunks(list(ids)):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"UPDATE {qn(table)} SET {sets} WHERE id IN ({marks})", [*values, *part])


def upsert_add(
    table: str, keys: Sequence[str], totals: Sequence[str], deltas: dict[tuple, tuple]
) -> None:
    """Add deltas to rows of running totals, creating missing rows (INSERT … ON CONFLICT, both engines)."""
    if not deltas:
        return
    qn = connection.ops.quote_name
    columns = [*keys, *totals]
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    conflict = ", ".join(qn(k) for k in keys)
    sets = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in totals)
    sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    rows = [(*key, *delta) for key, delta in sorted(deltas.items()) if any(delta)]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
