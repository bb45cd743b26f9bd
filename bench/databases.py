"""Fresh throwaway databases for one benchmark process: a temp SQLite file or a PostgreSQL database."""

import shutil
import tempfile
from pathlib import Path

import dj_database_url
import psycopg

PG_URL = "postgres://postgres@127.0.0.1:5432/test"


def _pg_params(url: str, dbname: str | None = None) -> dict:
    c = dj_database_url.parse(url)
    return {
        "host": c["HOST"] or "127.0.0.1",
        "port": c["PORT"] or 5432,
        "user": c["USER"],
        "password": c["PASSWORD"] or None,
        "dbname": dbname or c["NAME"],
        "connect_timeout": 3,
    }


def postgres_reachable(url: str = PG_URL) -> bool:
    try:
        psycopg.connect(**_pg_params(url)).close()
        return True
    except psycopg.Error:
        return False


def _admin(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run in a transaction; connect to the server's own database.
    with psycopg.connect(**_pg_params(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def fresh(kind: str, name: str, pg_url: str = PG_URL) -> tuple[str, str]:
    """(DATABASE_URL, LIXIAO_VAR_DIR) of a new empty database called `name`."""
    var_dir = tempfile.mkdtemp(prefix=f"lixiao-bench-{name}-")
    if kind == "sqlite":
        return f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}", var_dir
    _admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(pg_url, f'CREATE DATABASE "{name}"')
    params = _pg_params(pg_url)
    user = params["user"] + (f":{params['password']}" if params["password"] else "")
    return f"postgres://{user}@{params['host']}:{params['port']}/{name}", var_dir


def drop(kind: str, name: str, var_dir: str, pg_url: str = PG_URL) -> None:
    shutil.rmtree(var_dir, ignore_errors=True)
    if kind == "postgres":
        _admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
