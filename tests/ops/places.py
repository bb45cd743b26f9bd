"""A database and an upload directory of their own for tests that run manage.py as an operator
does: in a child process, with DATABASE_URL and LIXIAO_VAR_DIR pointing at them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
OURS = ("LIXIAO_", "DATABASE_URL", "SECRET_KEY", "DJANGO_")


class Place:
    """One database + one upload directory, as DATABASE_URL and LIXIAO_VAR_DIR give them."""

    def __init__(self, tmp: Path, name: str):
        self.var = tmp / name
        self.var.mkdir()
        db = settings.DATABASES["default"]
        self.vendor = "postgresql" if db["ENGINE"].endswith("postgresql") else "sqlite"
        if self.vendor == "sqlite":
            self.url = f"sqlite:///{self.var / 'lixiao.sqlite3'}"
        else:
            # Named after this run's own database, so parallel runs never share one.
            self.db = f"{db['NAME']}_drill_{name}"
            auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
            self.server = f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            self._admin(f'DROP DATABASE IF EXISTS "{self.db}"', f'CREATE DATABASE "{self.db}"')
            self.url = f"{self.server}/{self.db}"

    def _admin(self, *statements):
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def drop(self):
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
        env.update(
            DATABASE_URL=self.url,
            LIXIAO_VAR_DIR=str(self.var),
            DJANGO_SETTINGS_MODULE="lixiao.settings",
            PYTHONDONTWRITEBYTECODE="1",
            **extra,
        )
        return env

    def manage(self, *args, cwd=ROOT, **extra) -> subprocess.CompletedProcess:
        """manage.py of the code in `cwd` (this checkout unless told) on this place."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=cwd, env=self.env(**extra), capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    def rows(self, table: str) -> list[tuple]:
        """Every row of a table in id order, read by the engine's own driver (not Django)."""
        if self.vendor == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.var / "lixiao.sqlite3")
            try:
                cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            finally:
                conn.close()
        with psycopg.connect(self.url) as conn:
            cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def table_names(self) -> set[str]:
        if self.vendor == "sqlite":
            rows = self.rows("sqlite_master")
            return {r["name"] for r in rows if r["type"] == "table"} - {"sqlite_sequence"}
        with psycopg.connect(self.url) as conn:
            return {
                name
                for (name,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            }

    def drill(self, step: str, *args) -> None:
        call = f"drill.{step}({', '.join(repr(a) for a in args)})"
        code = f"import django; django.setup(); from tests.ops import drill; {call}"
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    def snapshot(self, path: Path) -> dict:
        self.drill("snapshot", str(path))
        return json.loads(path.read_text(encoding="utf-8"))

    def tables(self) -> int:
        result = self.manage(
            "shell",
            "-c",
            "from django.db import connection; print(len(connection.introspection.table_names()))",
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1])
