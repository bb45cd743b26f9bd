"""Races on SQLite, run where they can be real: a child process on a throwaway file database.

The SQLite test database is in memory with a shared cache: there a second writer gets
"database table is locked" at once (the busy timeout does not apply to shared-cache locks),
and flushing it after a transactional test is refused by the append-only audit triggers. So a
SQLite race runs in a child process on a file database with the production settings (WAL,
IMMEDIATE transactions, busy timeout), which calls `<module>.sqlite_race()`.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_sqlite_race(tmp_path: Path, module: str) -> None:
    """Run `module.sqlite_race()` in a child on a file database; it prints "race: consistent"."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "LIXIAO_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "lixiao.settings",
    }
    code = f"import django; django.setup(); import {module} as t; t.sqlite_race()"
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stdout + child.stderr
    assert "race: consistent" in child.stdout


def prepare_child_database() -> None:
    """In the child: the throwaway file database, migrated, with the tests' fast hasher."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    assert connection.vendor == "sqlite" and "race.sqlite3" in str(
        settings.DATABASES["default"]["NAME"]
    )
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
