"""Office console benchmark: roster import of N rows through the real importer, and the dashboard.

    .venv/bin/python bench/console.py [--students 50000] [--no-postgres]

For each engine (a fresh SQLite file; PostgreSQL when reachable) a child process migrates an
empty database, builds the synthetic university (bench/world.py), writes an N-row roster
.xlsx, then times: preview (read + validate every row), confirm (students, accounts, forms,
records, counters in one transaction), the whole import, the supervision dashboard's server
time (GET through Django's test client, median of 5) and its queries alone. Peak memory is the
child's maximum resident set size (it does nothing else).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py


def _once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _maxrss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(n: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    import django

    django.setup()
    import xlsxwriter
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench import world
    from lixiao import sqlbulk
    from lixiao.clearance import services
    from lixiao.clearance.models import Form, Source, State
    from lixiao.console import importers
    from lixiao.console.views.supervision import dashboard
    from lixiao.directory.models import College
    from lixiao.tabular import jobs

    call_command("migrate", verbosity=0)
    w = world.build()
    names = dict(College.objects.values_list("id", "name"))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(
        0,
        0,
        [
            "学号*",
            "姓名*",
            "身份证件号*",
            "性别",
            "院系*",
            "专业",
            "班级",
            "学生类别*",
            "政治面貌",
            "宿舍",
            "联系电话",
            "辅导员工号",
            "辅导员姓名",
        ],
    )
    for i, r in enumerate(world.roster(n, w.colleges), start=1):
        counselor = ("T0001", "辅导员") if r.college_id == w.colleges[0].id else ("", "")
        sheet.write_row(
            i,
            0,
            [
                r.student_number,
                r.name,
                r.id_number,
                r.gender,
                names[r.college_id],
                r.major,
                r.class_name,
                r.student_type,
                r.political_status,
                r.dormitory,
                "",
                *counselor,
            ],
        )
    book.close()
    data = buffer.getvalue()
    rss_before = _maxrss_mb()

    start = time.perf_counter()
    job = jobs.preview(
        importers.RosterImporter.kind, w.office, "roster.xlsx", data, {"batch": w.batch.id}
    )
    previewed = time.perf_counter()
    assert job.preview["error_count"] == 0, job.preview["errors"][:3]
    jobs.confirm(job)
    done = time.perf_counter()
    forms = Form.objects.filter(batch=w.batch).count()
    assert forms == n, forms

    # Give the chart something to draw: the first 2,000 forms complete, through the writer.
    actor = services.Actor(w.office, Source.ADMIN)
    first = list(
        Form.objects.filter(batch=w.batch).order_by("id").values_list("id", flat=True)[:2000]
    )
    for step in sorted(w.steps, key=lambda s: s.is_final):
        services.apply_many(
            actor, w.batch, step, [services.Item(fid, State.PASSED) for fid in first]
        )

    if sqlbulk.is_postgres():
        # Autovacuum would analyse the imported rows within a minute; do it now, as the other
        # benches do, so the dashboard is timed on settled plans.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    w.office.uses_initial_password = False  # the account gate would send it to the password page
    w.office.save(update_fields=["uses_initial_password"])
    query_times = [_once(lambda: dashboard(w.batch, w.office)) for _ in range(5)]
    try:
        client = Client()
        client.force_login(w.office)
        url = reverse("console:supervision", args=[w.batch.id])
        assert client.get(url).status_code == 200
        page_ms = round(
            1000 * statistics.median(_once(lambda: client.get(url)) for _ in range(5)), 1
        )
    except Exception as exc:  # another app failing to load must not hide the import figures
        page_ms = f"n/a ({type(exc).__name__})"
    return {
        "students": n,
        "file_mb": round(len(data) / 2**20, 1),
        "preview_s": round(previewed - start, 2),
        "confirm_s": round(done - previewed, 2),
        "import_s": round(done - start, 2),
        "peak_rss_mb": round(_maxrss_mb(), 1),
        "rss_before_import_mb": round(rss_before, 1),
        "dashboard_page_ms": page_ms,
        "dashboard_queries_ms": round(1000 * statistics.median(query_times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.students)))
        return
    from bench import databases

    kinds = ["sqlite"]
    if not args.no_postgres and databases.postgres_reachable():
        kinds.append("postgres")
    results = {}
    for kind in kinds:
        name = f"lixiao_bench_console_{os.getpid()}"
        url, var_dir = databases.fresh(kind, name)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LIXIAO_VAR_DIR": var_dir,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--students", str(args.students)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.CalledProcessError as exc:
            sys.exit(f"{kind}: benchmark failed\n{exc.stderr[-3000:]}")
        finally:
            databases.drop(kind, name, var_dir)
    rows = [
        ("roster .xlsx", "file_mb", "MB"),
        ("preview (read + validate)", "preview_s", "s"),
        ("confirm (one transaction)", "confirm_s", "s"),
        ("import total", "import_s", "s"),
        ("peak memory (max RSS)", "peak_rss_mb", "MB"),
        ("dashboard page (GET)", "dashboard_page_ms", "ms"),
        ("dashboard queries only", "dashboard_queries_ms", "ms"),
    ]
    print(f"Office console, {args.students:,} students")
    print(f"{'':28}" + "".join(f"{k:>12}" for k in kinds))
    for label, key, unit in rows:
        print(f"{label:28}" + "".join(f"{results[k][key]:>9} {unit:<2}" for k in kinds))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
