"""Where a graduation-day request spends its time: one request at a time, no queueing.

    .venv/bin/python bench/day_profile.py [--students 30000] [--db sqlite|postgres://…] [--runs 30]

Seeds the demo university as bench/day.py does (plus its 40 handlers), then requests each page of
the mix through Django's test client as the person who would, and prints per endpoint the median
wall time, the median time inside SQL and the number of queries. Beside bench/day.py's p99 at 16
concurrent this tells service time from waiting in line for a core.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="lixiao-day-profile-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{var_dir / 'p.sqlite3'}" if args.db == "sqlite" else args.db,
        LIXIAO_VAR_DIR=str(var_dir),
        DEBUG="0",
        LIXIAO_BENCH="1",
        DJANGO_SETTINGS_MODULE="lixiao.settings",
    )
    try:
        import django

        django.setup()
        import json

        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench import day_prep
        from lixiao.directory.models import User

        call_command("migrate", verbosity=0)
        call_command("seed_demo", students=args.students, verbosity=0)
        path = var_dir / "people.json"
        day_prep.main(str(path))
        day = json.loads(path.read_text(encoding="utf-8"))
        batch = day["batch"]
        rng = random.Random(3)
        users = {
            u.username: u
            for u in User.objects.filter(
                username__in=[
                    *[p["username"] for p in day["students"][:200]],
                    *[h["username"] for h in day["handlers"]],
                    *day["office"],
                ]
            )
        }
        clients = {}

        def client(username):
            if username not in clients:
                c = Client()
                c.force_login(users[username])
                clients[username] = c
            return clients[username]

        def student():
            return rng.choice(day["students"][:200])

        def handler():
            return rng.choice(day["handlers"])

        def act():
            h = handler()
            _form, record, state = rng.choice(day["records"][str(h["step"])])
            return (
                h["username"],
                "post",
                f"/desk/b/{batch}/r/{record}/{'revoke' if state == 'passed' else 'pass'}/",
            )

        endpoints = {
            "baseline": lambda: (student()["username"], "get", "/me/bench-baseline/"),
            "student: /me/": lambda: (student()["username"], "get", "/me/"),
            "desk: search 学号": lambda: (
                handler()["username"],
                "get",
                f"/desk/b/{batch}/?q={rng.choice(day['search'])[0]}",
            ),
            "desk: search 姓名": lambda: (
                handler()["username"],
                "get",
                f"/desk/b/{batch}/?q={rng.choice(day['search'])[1][:2]}",
            ),
            "desk: open form": lambda: (
                handler()["username"],
                "get",
                f"/desk/b/{batch}/f/{rng.choice(day['forms'])}/",
            ),
            "desk: pass/revoke": act,
            "office: follow-up": lambda: ("admin", "get", f"/console/batches/{batch}/supervision/"),
        }
        lines = [
            f"## one request at a time — {args.students:,} students, "
            f"{'SQLite' if args.db == 'sqlite' else 'PostgreSQL'}, median of {args.runs}",
            "",
            "| endpoint | wall ms | SQL ms | queries |",
            "|---|---:|---:|---:|",
        ]
        for name, pick in endpoints.items():
            walls, sqls, counts = [], [], []
            for i in range(args.runs + 2):
                username, method, url = pick()
                c = client(username)
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    r = c.post(url, HTTP_HX_REQUEST="true") if method == "post" else c.get(url)
                    wall = time.perf_counter() - started
                assert r.status_code in (200, 302), (name, r.status_code)
                if i >= 2:  # two warm-ups
                    walls.append(wall * 1000)
                    sqls.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                    counts.append(len(queries.captured_queries))
            lines.append(
                f"| {name} | {statistics.median(walls):.1f} | {statistics.median(sqls):.1f} |"
                f" {statistics.median(counts):.0f} |"
            )
        print("\n".join(lines))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
