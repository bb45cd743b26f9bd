"""Integration speed: push 30,000 rows through the API and sync 30,000 forms, on fresh databases.

Usage: .venv/bin/python bench/integrations.py [--students 30000] [--db sqlite|postgres|both]
Each database runs in its own child process on a fresh database (bench/databases.py).
Prints wall time and rows/s; timings never fail the run.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py

PUSH_SIZE = 10_000


def child(n: int) -> dict:
    import django

    django.setup()
    from django.test import Client

    from bench.one import prepare, seed_ours
    from lixiao.clearance.models import Record, State
    from lixiao.integrations.models import IntegrationSource
    from lixiao.integrations.services import set_token, sync

    w, rows, codes, counselor = prepare(n)
    seed_ours(w, rows, codes, counselor)
    finance = IntegrationSource.objects.get(code="finance")
    set_token(finance, "bench-token")
    numbers = [r.student_number for r in rows]
    payload = [
        {
            "student_number": s,
            "cleared": i % 10 != 0,
            "reason": "" if i % 10 else "欠费 1200.00 元",
            "amount": None if i % 10 else "1200.00",
        }
        for i, s in enumerate(numbers)
    ]
    client = Client()

    def push_all():
        for start in range(0, len(payload), PUSH_SIZE):
            response = client.post(
                "/api/v1/sources/finance/rows",
                json.dumps({"mode": "upsert", "rows": payload[start : start + PUSH_SIZE]}),
                content_type="application/json",
                HTTP_AUTHORIZATION="Bearer bench-token",
            )
            assert response.status_code == 200, response.content[:500]

    out = {}
    started = time.perf_counter()
    push_all()
    out["push_new"] = time.perf_counter() - started
    started = time.perf_counter()
    push_all()
    out["push_same"] = time.perf_counter() - started
    started = time.perf_counter()
    run = sync.sync_source(finance)
    out["sync"] = time.perf_counter() - started
    assert run.error_count == 0, run.errors
    out["sync_changed"] = run.passed + run.returned
    started = time.perf_counter()
    again = sync.sync_source(finance)
    out["sync_again"] = time.perf_counter() - started
    out["sync_again_changed"] = again.passed + again.returned
    out["passed_after"] = Record.objects.filter(step__source=finance, state=State.PASSED).count()
    out["rows"] = len(payload)
    return out


def parent(args) -> int:
    from bench import databases

    kinds = ["sqlite"] if args.db in ("sqlite", "both") else []
    if args.db in ("postgres", "both"):
        if databases.postgres_reachable(args.pg_url):
            kinds.append("postgres")
        else:
            print(f"PostgreSQL not reachable at {args.pg_url}: skipped")
    for kind in kinds:
        url, var_dir = databases.fresh(kind, "lixiao_bench_integrations", args.pg_url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LIXIAO_VAR_DIR": var_dir,
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "lixiao.settings",
            "LIXIAO_PUSH_PER_MINUTE": "1000",
            # The push's follow-up sync is timed separately below, not inside the push.
            "LIXIAO_TASK_BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "LOG_LEVEL": "WARNING",
        }
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", "--students", str(args.students)],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            databases.drop(kind, "lixiao_bench_integrations", var_dir, args.pg_url)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        n = r["rows"]
        print(f"\n{kind}: {n:,} students, finance source")
        print(
            f"  push {n:,} new rows ({-(-n // PUSH_SIZE)} requests)   {r['push_new']:7.2f} s  {n / r['push_new']:9,.0f} rows/s"
        )
        print(
            f"  push the same rows again       {r['push_same']:7.2f} s  {n / r['push_same']:9,.0f} rows/s"
        )
        print(
            f"  sync {n:,} forms ({r['sync_changed']:,} changed) {r['sync']:7.2f} s  {n / r['sync']:9,.0f} forms/s"
        )
        print(
            f"  sync again ({r['sync_again_changed']} changed)        {r['sync_again']:7.2f} s  "
            f"{n / r['sync_again']:9,.0f} forms/s"
        )
        print(f"  passed after sync: {r['passed_after']:,}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.students)))
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
