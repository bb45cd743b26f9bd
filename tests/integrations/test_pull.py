"""Pull: a read-only query against another database (a second SQLite file, and PostgreSQL)."""

import os
import sqlite3
import uuid

import pytest

from lixiao.clearance.models import State
from lixiao.integrations.models import SourceRow, SyncRun
from lixiao.integrations.services import pull, sync
from tests.conftest import record

PG_URL = os.environ.get("LIXIAO_PULL_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
QUERY = "SELECT xh, jq, yy, je FROM {table} ORDER BY xh"
COLUMNS = {"student_number": "xh", "cleared": "jq", "reason": "yy", "amount": "je"}
DATA = [
    ("2022000001", 0, "欠费 1200.00 元", "1200.00"),
    ("2022000005", 1, "", None),
    ("2099000009", 1, "", None),
]


def configure(source, url, table):
    source.pull_url, source.pull_query, source.pull_columns = (
        url,
        QUERY.format(table=table),
        COLUMNS,
    )
    source.save()


@pytest.fixture
def finance_db(tmp_path):
    path = tmp_path / "finance.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE jf (xh TEXT, jq INTEGER, yy TEXT, je TEXT)")
        conn.executemany("INSERT INTO jf VALUES (?, ?, ?, ?)", DATA)
    conn.close()
    return path


def test_sync_pulls_from_a_second_sqlite_file(finance, uni, finance_db):
    configure(finance, f"sqlite:///{finance_db}", "jf")
    run = sync.sync_source(finance)
    assert run.status == SyncRun.Status.DONE and run.pulled == 3 and run.unknown == 1
    rec = record(uni.form, "财务处")
    assert rec.state == State.PENDING and rec.reason == "欠费 1200.00 元"
    assert record(uni.form_cs2, "财务处").state == State.PASSED
    assert record(uni.form_lit, "财务处").reason == "尚无集成表1 财务处数据"


def test_a_pull_is_a_snapshot_and_read_only(finance, uni, finance_db):
    configure(finance, f"sqlite:///{finance_db}", "jf")
    sync.sync_source(finance)
    with sqlite3.connect(finance_db) as conn:
        conn.execute("DELETE FROM jf WHERE xh = '2022000005'")
    conn.close()
    sync.sync_source(finance)
    assert not SourceRow.objects.filter(student_number="2022000005").exists()
    assert (
        record(uni.form_cs2, "财务处").state == State.PENDING
    )  # gone from the source: fails closed
    finance.pull_query = "DELETE FROM jf"
    with pytest.raises(pull.PullError, match="SELECT"):
        pull.pull_source(finance)
    finance.pull_query = "SELECT 1 AS xh, 1 AS jq; DELETE FROM jf"
    with pytest.raises(pull.PullError):
        pull.pull_source(finance)


def test_a_failing_pull_is_logged_and_keeps_the_rows(finance, uni, finance_db):
    configure(finance, f"sqlite:///{finance_db}", "jf")
    sync.sync_source(finance)
    configure(finance, f"sqlite:///{finance_db}", "no_such_table")
    run = sync.sync_source(finance)
    assert run.status == SyncRun.Status.FAILED and "拉取失败" in run.errors[0]
    assert SourceRow.objects.filter(source=finance).count() == 3
    assert record(uni.form_cs2, "财务处").state == State.PASSED


def test_env_url_keeps_the_password_out_of_the_database(finance, uni, finance_db, monkeypatch):
    monkeypatch.setenv("FINANCE_DB_URL", f"sqlite:///{finance_db}")
    configure(finance, "env:FINANCE_DB_URL", "jf")
    assert sync.sync_source(finance).pulled == 3
    monkeypatch.delenv("FINANCE_DB_URL")
    assert "FINANCE_DB_URL" in sync.sync_source(finance).errors[0]


def test_missing_columns_are_named(finance, uni, finance_db):
    configure(finance, f"sqlite:///{finance_db}", "jf")
    finance.pull_columns = {"student_number": "student_no"}
    finance.save()
    with pytest.raises(pull.PullError, match="student_no"):
        pull.pull_source(finance)


def _postgres():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(PG_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")


def test_sync_pulls_from_postgresql(finance, uni):
    conn = _postgres()
    table = f"lixiao_pull_{uuid.uuid4().hex[:12]}"
    try:
        conn.execute(f"CREATE TABLE {table} (xh text, jq boolean, yy text, je numeric(12,2))")
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s)",  # noqa: S608 — our own name
                [(n, bool(c), r, a) for n, c, r, a in DATA],
            )
        configure(finance, PG_URL, table)
        run = sync.sync_source(finance)
        assert run.status == SyncRun.Status.DONE and run.pulled == 3
        assert record(uni.form, "财务处").reason == "欠费 1200.00 元"
        assert record(uni.form_cs2, "财务处").state == State.PASSED
        # The connection is read-only even if a query got past the SELECT check.
        with pytest.raises(pull.PullError, match="read-only"):
            pull.fetch(
                PG_URL, f"WITH gone AS (DELETE FROM {table} RETURNING xh) SELECT xh FROM gone"
            )
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 3
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.close()
