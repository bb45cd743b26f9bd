"""The real background worker: `manage.py db_worker` picks up a queued sync from a database file."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = """
from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.tasks import sync_task
source = IntegrationSource.objects.create(code="finance", name="集成表1 财务处")
sync_task.enqueue(source.pk, "manual")
"""


def test_db_worker_runs_a_queued_sync(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "LIXIAO_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "lixiao.settings",
        "LIXIAO_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT, timeout=300
    )
    subprocess.run([*manage, "shell", "-c", SETUP], env=env, check=True, cwd=ROOT, timeout=120)
    db = tmp_path / "worker.sqlite3"
    assert _query(db, "SELECT count(*) FROM integrations_syncrun") == 0  # queued, not run yet
    worker = subprocess.Popen(
        [
            *manage,
            "db_worker",
            "--queue-name",
            "default",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--no-reload",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not a timing assertion
        status = None
        while time.monotonic() < deadline and status != "SUCCESSFUL":
            time.sleep(0.3)
            status = _query(db, "SELECT status FROM django_tasks_database_dbtaskresult")
        assert status == "SUCCESSFUL", (
            worker.stderr.read1().decode() if worker.poll() is not None else status
        )
        assert _query(db, "SELECT status FROM integrations_syncrun") == "done"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def _query(path, sql):
    conn = sqlite3.connect(path, timeout=10)
    try:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        conn.close()
