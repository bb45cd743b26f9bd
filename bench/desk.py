"""Desk benchmark: median server time of the desk's pages at 50,000 students, and a 5,000-student bulk pass.

Standalone: `python bench/desk.py [--students N] [--db sqlite|postgres|both]`. Each database gets a
fresh throwaway copy and a child process (seeded through the real roster path, then timed through
Django's test client, logged in as a handler). Timings never fail; the table marks each target.
"""

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py

TARGETS_MS = {
    "search_number": 5,
    "search_name": 30,
    "search_advanced": 50,
    "stats": 10,
    "bulk_5000": 2000,
    "query_number": 5,
    "query_name": 30,
    "query_advanced": 50,
}
LABELS = {
    "search_number": "search by 学号 (page)",
    "search_name": "search by name (page)",
    "search_advanced": "advanced search (page)",
    "stats": "statistics panel",
    "bulk_5000": "bulk pass, 5,000 selected (one POST)",
    "query_number": "search by 学号 (scoped query, first page, its states)",
    "query_name": "search by name (scoped query, first page, its states)",
    "query_advanced": "advanced search (scoped query, first page, its states)",
}


def child(n: int, reads: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench import world
    from bench.one import seed_ours
    from lixiao import sqlbulk
    from lixiao.clearance.models import Form, Step

    # The test client's host; setup_test_environment() would also instrument every template render.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    w = world.build()
    rows = world.roster(n, w.colleges)
    codes = {c.id: c.code for c in w.colleges}
    seed_ours(w, rows, codes, {w.colleges[0].id: w.counselor.id})
    if sqlbulk.is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rng = random.Random(11)
    numbers = [rows[rng.randrange(n)].student_number for _ in range(reads + 1)]
    names = [(rows[rng.randrange(n)].name[:2] + "伟")[:2] for _ in range(reads + 1)]
    # A serving process holds no roster: drop it and collect, as bench/one.py does, so the
    # collector does not rescan 50,000 seeding leftovers in the middle of timed requests.
    rows = None
    gc.collect()
    batch = w.batch
    step = Step.objects.get(category=batch.category, title=world.BULK_STEP)
    # A real handler changed the initial password at first login; the bench's persona has none.
    type(w.handler).objects.filter(pk=w.handler.pk).update(uses_initial_password=False)
    client = Client(secure=True)  # production settings redirect plain HTTP to HTTPS
    client.force_login(w.handler)
    base = f"/desk/b/{batch.id}/"

    def timed(url_params) -> tuple[float, float]:
        """Median wall and CPU milliseconds (CPU: this process; the machine may be shared)."""
        walls, cpus = [], []
        for i, (url, params) in enumerate(url_params):
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert response.status_code == 200, (url, response.status_code)
            if i:  # the first run warms caches
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
        return statistics.median(walls), statistics.median(cpus)

    advanced = {
        "college": w.colleges[3].id,
        "student_type": "本科生",
        "political_status": "共青团员",
        f"s{step.id}": "pending",
        "completed": "no",
    }
    result = {
        "search_number": timed([(base, {"q": q}) for q in numbers]),
        "search_name": timed([(base, {"q": q}) for q in names]),
        "search_advanced": timed(
            [(base, {**advanced, "class_name": f"2023级{i % 30 + 1}班"}) for i in range(reads + 1)]
        ),
        "stats": timed([(base + "stats/", {})] * (reads + 1)),
    }
    # The same searches without the web layer (session, roles, template): the scoped query alone.
    from lixiao.clearance import queries, scope
    from lixiao.desk.filters import SearchForm
    from lixiao.desk.views import RESULT_FIELDS, result_page

    steps = [step, Step.objects.get(category=batch.category, title="校友会登记")]

    def query_only(params_list) -> tuple[float, float]:
        walls, cpus = [], []
        for i, params in enumerate(params_list):
            start, cpu = time.perf_counter(), time.process_time()
            reach = scope.reach(w.handler, batch.id)  # the gate's grants read, as before
            qs = queries.search(reach, SearchForm(params, steps).filters())
            page = result_page(qs.only(*RESULT_FIELDS), None)  # as the page reads it
            queries.attach_cells(page.object_list, steps)
            total, page = page.paginator.count, page.object_list
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert total >= len(page)
            if i:
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
        return statistics.median(walls), statistics.median(cpus)

    result["query_number"] = query_only([{"q": q} for q in numbers])
    result["query_name"] = query_only([{"q": q} for q in names])
    result["query_advanced"] = query_only(
        [{**advanced, "class_name": f"2023级{i % 30 + 1}班"} for i in range(reads + 1)]
    )
    forms = list(
        Form.objects.filter(batch=batch).order_by("id").values_list("id", flat=True)[:5000]
    )
    bulk, bulk_cpu = [], []
    for i in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.post(
            base + "bulk/",
            {
                "step": step.id,
                "action": "pass" if i % 2 == 0 else "revoke",
                "forms": ",".join(map(str, forms)),
            },
        )
        bulk.append((time.perf_counter() - start) * 1000)
        bulk_cpu.append((time.process_time() - cpu) * 1000)
        assert (
            response.status_code == 200
            and "：<strong>5000</strong> 人" in response.content.decode()
        )
    result["bulk_5000"] = statistics.median(bulk), statistics.median(bulk_cpu)
    return result


def run(kind: str, args) -> dict:
    from bench import databases

    name = "lixiao_bench_desk"
    url, var_dir = databases.fresh(kind, name, args.pg_url)
    out = Path(var_dir) / "result.json"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LIXIAO_VAR_DIR": var_dir,
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "lixiao.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    print(f"· {kind}: seeding {args.students:,} students and timing the desk …", flush=True)
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--students",
                str(args.students),
                "--reads",
                str(args.reads),
                "--out",
                str(out),
            ],
            env=env,
            check=True,
            cwd=ROOT,
        )
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        databases.drop(kind, name, var_dir, args.pg_url)


def main() -> int:
    from bench import databases

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--reads", type=int, default=41, help="timed requests per page")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG", databases.PG_URL))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        Path(args.out).write_text(json.dumps(child(args.students, args.reads)), encoding="utf-8")
        return 0
    kinds = ["sqlite"] if args.db in ("sqlite", "both") else []
    if args.db in ("postgres", "both") and databases.postgres_reachable(args.pg_url):
        kinds.append("postgres")
    results = {kind: run(kind, args) for kind in kinds}
    lines = [
        f"## bench/desk.py — {args.students:,} students, median server time (Django test client)",
        "",
        "| operation | target | " + " | ".join(kinds) + " |",
        "|---|---|" + "---|" * len(kinds),
    ]
    for key, label in LABELS.items():
        cells = []
        for kind in kinds:
            ms, cpu = results[kind][key]
            cells.append(f"{ms:.1f} ms (CPU {cpu:.1f}) {'✓' if ms <= TARGETS_MS[key] else '✗'}")
        lines.append(f"| {label} | ≤ {TARGETS_MS[key]:,} ms | " + " | ".join(cells) + " |")
    load = os.getloadavg()[0]
    lines.append(
        f"\nWall time, with this process's CPU time in brackets; load average {load:.1f} on "
        f"{os.cpu_count()} CPUs (a shared machine inflates wall time)."
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
