"""The production shape on this machine: nginx (Debian's) in front of two gunicorn nodes, each
with its task worker, on one PostgreSQL database and one Redis, files in the database.

Collected only by `make test-cluster` (LIXIAO_TEST_CLUSTER=1; tests/conftest.py leaves this folder
out otherwise). Everything started here binds 127.0.0.1 on free ports and is stopped at the end,
also on failure; the database it creates is dropped and its Redis keys deleted.
"""

import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests import stack

PG_URL = os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LIXIAO_CLUSTER_REDIS", "redis://127.0.0.1:6379/0")
STUDENTS = 400
PASSWORD = "lixiao-demo"  # the demo's (README)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# What the tests need to know about the seeded university, read once from the database.
FACTS = """
import json
from lixiao.clearance.models import Batch, Form, Record
batch = Batch.objects.get(category__name='本科生离校')
cs = list(Form.objects.filter(batch=batch, college__code='CS', completed_at__isnull=True)
          .order_by('id').values_list('id', flat=True)[:40])
records = {}
for r in Record.objects.filter(form_id__in=cs).select_related('step'):
    records.setdefault(r.form_id, {})[r.step.title] = [r.id, r.state, r.step.required, r.step.is_final]
me = Form.objects.get(batch=batch, student__student_number='2022000001')
mine = {r.step.title: [r.id, r.state] for r in Record.objects.filter(form=me).select_related('step')}
print(json.dumps({'batch': batch.id, 'cs_forms': cs, 'records': records, 'me': mine}))
"""


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


@dataclass
class Cluster:
    stack: stack.Stack
    nginx: str
    a: str
    b: str
    db_url: str
    facts: dict

    def query(self, sql: str, *args):
        with psycopg.connect(self.db_url) as conn:
            return conn.execute(sql, args).fetchall()


def login(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A browser-like session logged in through `base` (a node or nginx)."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF.search(page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, (username, answer.status_code)
    return session


def api_headers(session: requests.Session) -> dict:
    return {"X-CSRFToken": session.cookies["csrftoken"], "Content-Type": "application/json"}


@pytest.fixture(scope="session")
def cluster():
    if not stack.have_nginx():
        pytest.fail("the cluster test needs Debian's nginx: apt-get install nginx")
    var_dir = Path(tempfile.mkdtemp(prefix="lixiao-cluster-"))
    name = f"lixiao_cluster_{os.getpid()}"
    admin = _admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"lixiao-cluster-{os.getpid()}"
    env = stack.base_env(
        var_dir,
        DATABASE_URL=db_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        LIXIAO_ID_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LIXIAO_STATIC_MANIFEST=1,
        LIXIAO_CACHE_URL=REDIS_URL,
        LIXIAO_CACHE_PREFIX=prefix,
        LIXIAO_FILE_STORAGE="database",
        LIXIAO_PROXY_COUNT=1,
        LIXIAO_WORKER_BEAT_SECONDS=1,
        LIXIAO_WORKER_DEAD_SECONDS=5,
        LOG_FORMAT="json",
    )
    running = stack.Stack(var_dir, env)
    try:
        stack.manage(env, "migrate", "--no-input", "-v0")
        stack.manage(env, "seed_demo", "--students", str(STUDENTS))
        stack.manage(env, "collectstatic", "--no-input", "-v0")
        facts = json.loads(stack.manage(env, "shell", "-v0", "-c", FACTS).strip().splitlines()[-1])
        a = running.node("a", workers=2, threads=4)
        b = running.node("b", workers=2, threads=4)
        running.worker("worker-a", "--interval", "0.2", "--no-startup-delay")
        running.worker("worker-b", "--interval", "0.2", "--no-startup-delay")
        nginx = running.nginx(["a", "b"])
        yield Cluster(running, nginx, a, b, db_url, facts)
    finally:
        running.close()
        _forget_redis_keys(prefix)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        logs = var_dir / "logs"
        keep = Path(__file__).resolve().parents[2] / "artifacts" / "cluster-logs"
        if logs.exists():
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(logs, keep)
        shutil.rmtree(var_dir, ignore_errors=True)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=500):
        client.delete(key)
