"""Office console benchmark: roster import of N rows through the real importer, and the
follow-up page (跟进及督办) with its forecast beside the baseline page.

    .venv/bin/python bench/console.py [--students 50000] [--days 20] [--rounds 41] [--no-postgres]

For each engine (a fresh SQLite file; PostgreSQL when reachable) a child process migrates an
empty database, builds the synthetic university (bench/world.py), writes an N-row roster
.xlsx, then times: preview (read + validate every row), confirm (students, accounts, forms,
records, counters in one transaction) and the whole import. Peak memory is the child's maximum
resident set size (it does nothing else but the import until then).

Then the follow-up page: the same N students are enrolled on a second batch as of --days ago
(opened a day earlier, closing in 30 days) and that many days of work are replayed through the
writer (services.apply_many with each day's time: every step's front advances at its own pace,
between 1.5 % and 5 % of the roster a day, the final step behind the others), so the daily
tallies hold a realistic history. Timed through Django's test client, interleaved round by
round (median of --rounds each, wall and CPU of this process; for SQLite that includes the
database's work, for PostgreSQL not the server's):

- baseline: /me/bench-baseline/ as a student — the site layout, one template, one indexed
  query (the page bench/http_load.py compares others with);
- follow-up page, cached: GET as the office when nothing changed since the last GET — the
  usual case, and the one the issue's target is about;
- follow-up page, built: the same GET after the cache is cleared — every request after a write;
- dashboard data only: console.dashboard.dashboard() (every query and the forecast, no template);

and last the recount of the daily tallies from the audit trail (what manage.py
rebuild_daily_tallies and the upgrade's migration run), checked equal to what the writer kept.

ratio = baseline time / page time: the page's rate as a fraction of the baseline's (target ≥ 0.5
for the cached page).
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


def child(n: int, days: int, rounds: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    import django

    django.setup()
    import xlsxwriter
    from django.core.management import call_command

    from bench import world
    from lixiao.clearance.models import Form
    from lixiao.console import importers
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

    import_figures = {
        "file_mb": round(len(data) / 2**20, 1),
        "preview_s": round(previewed - start, 2),
        "confirm_s": round(done - previewed, 2),
        "import_s": round(done - start, 2),
        "peak_rss_mb": round(_maxrss_mb(), 1),
        "rss_before_import_mb": round(rss_before, 1),
    }
    return {"students": n, **import_figures, **follow_up(w, n, days, rounds)}


def follow_up(w, n: int, days: int, rounds: int) -> dict:
    """A second batch with `days` of replayed work, then the pages timed (see the module)."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from bench import timing
    from lixiao import sqlbulk
    from lixiao.clearance import scope, services
    from lixiao.clearance.models import Batch, DailyFormTally, DailyStepTally, Form, Source, State
    from lixiao.clearance.services import daily
    from lixiao.console import dashboard
    from lixiao.directory.models import Student, User

    now = timezone.now()
    start = now - timedelta(days=days)
    batch = Batch.objects.create(
        name="2026届夏季离校",
        academic_year="2025-2026",
        student_type="本科生",
        category=w.batch.category,
        opens_at=start - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    entries = [
        services.Enrolment(
            sid,
            college_id,
            None,
            {"political_status": political, "student_type": stype, "college": code},
        )
        for sid, college_id, political, stype, code in Student.objects.order_by("id").values_list(
            "id", "college_id", "political_status", "student_type", "college__code"
        )
    ]
    services.enrol(services.Actor.system(Source.ROSTER), batch, entries, at=start)
    forms = list(Form.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
    office = services.Actor(w.office, Source.ADMIN)
    steps = sorted(w.steps, key=lambda s: (s.is_final, s.order))
    # Each step's front moves on by its own share of the roster a day; the final step follows
    # the slowest prerequisite (refused where one is still pending: the gate decides).
    paces = {s.id: 0.015 + 0.035 * ((7 * i) % len(steps)) / len(steps) for i, s in enumerate(steps)}
    fronts = dict.fromkeys(paces, 0)
    replay_start = time.perf_counter()
    changed = 0
    for day in range(days, 0, -1):
        at = now - timedelta(days=day, hours=-2)
        for step in steps:
            pace = min(paces.values()) if step.is_final else paces[step.id]
            new_front = min(n, round(n * pace * (days - day + 1)))
            items = [services.Item(fid, State.PASSED) for fid in forms[fronts[step.id] : new_front]]
            fronts[step.id] = new_front
            if items:
                changed += len(services.apply_many(office, batch, step, items, at=at).changed)
    replay_s = time.perf_counter() - replay_start
    if sqlbulk.is_postgres():
        # Autovacuum would analyse the new rows within a minute; do it now, as the other
        # benches do, so the pages are timed on settled plans.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    w.office.uses_initial_password = False  # the account gate would send it to the password page
    w.office.save(update_fields=["uses_initial_password"])
    student = User.objects.filter(student__isnull=False).order_by("id").first()
    student.uses_initial_password = False
    student.save(update_fields=["uses_initial_password"])
    office_client, student_client = Client(), Client()
    office_client.force_login(w.office)
    student_client.force_login(student)
    page = reverse("console:supervision", args=[batch.id])
    baseline = reverse("portal:bench_baseline")
    for client, url in ((office_client, page), (student_client, baseline)):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    assert "预计" in office_client.get(page).content.decode()  # the forecast is on the page

    def get(client, url, clear=False):
        def run():
            if clear:
                cache.clear()
            assert client.get(url).status_code == 200

        return timing.timed(run)

    reach = scope.reach(w.office, batch.id)
    runs = {"baseline": [], "cached": [], "built": [], "data": []}
    for _ in range(rounds):  # interleaved, so that the machine's load weighs on each alike
        runs["built"].append(get(office_client, page, clear=True))
        runs["cached"].append(get(office_client, page))
        runs["baseline"].append(get(student_client, baseline))
        runs["data"].append(timing.timed(lambda: dashboard.dashboard(reach)))
    med = {
        k: (statistics.median(w for w, _c in v) * 1000, statistics.median(c for _w, c in v) * 1000)
        for k, v in runs.items()
    }
    # The recount from the audit trail (the rebuild command, the upgrade's migration) at this
    # size, and the check that the writer's daily tallies equal it.
    rss = _maxrss_mb()
    recount_s, _cpu = timing.timed(lambda: runs.setdefault("recount", daily.recount(batch.id)))
    assert runs["recount"] == daily.stored(batch.id), "daily tallies differ from the recount"
    return {
        "history_days": days,
        "history_changes": changed,
        "replay_s": round(replay_s, 1),
        "daily_rows": DailyStepTally.objects.filter(batch=batch).count()
        + DailyFormTally.objects.filter(batch=batch).count(),
        "page_bytes": len(office_client.get(page).content),
        **{f"{k}_ms": round(wall, 2) for k, (wall, _cpu) in med.items()},
        **{f"{k}_cpu_ms": round(cpu, 2) for k, (_wall, cpu) in med.items()},
        "recount_s": round(recount_s, 1),
        "recount_rss_growth_mb": round(_maxrss_mb() - rss, 1),
        "ratio_cached": round(med["baseline"][0] / med["cached"][0], 2),
        "ratio_built": round(med["baseline"][0] / med["built"][0], 2),
        "cpu_ratio_cached": round(med["baseline"][1] / med["cached"][1], 2),
        "cpu_ratio_built": round(med["baseline"][1] / med["built"][1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=20, help="days of replayed work")
    parser.add_argument("--rounds", type=int, default=41, help="timed requests per page")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.students, args.days, args.rounds)))
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
            "LIXIAO_BENCH": "1",  # the baseline page
            "DEBUG": "0",
        }
        try:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--students",
                    str(args.students),
                    "--days",
                    str(args.days),
                    "--rounds",
                    str(args.rounds),
                ],
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
        ("replayed history: days", "history_days", ""),
        ("  record changes", "history_changes", ""),
        ("  replay time", "replay_s", "s"),
        ("  daily tally rows", "daily_rows", ""),
        ("baseline page", "baseline_ms", "ms"),
        ("  CPU", "baseline_cpu_ms", "ms"),
        ("follow-up page, cached", "cached_ms", "ms"),
        ("  CPU", "cached_cpu_ms", "ms"),
        ("follow-up page, built", "built_ms", "ms"),
        ("  CPU", "built_cpu_ms", "ms"),
        ("dashboard data only", "data_ms", "ms"),
        ("page size", "page_bytes", "B"),
        ("recount from audit (= kept)", "recount_s", "s"),
        ("  max RSS growth", "recount_rss_growth_mb", "MB"),
        ("ratio baseline/cached", "ratio_cached", "×"),
        ("ratio baseline/built", "ratio_built", "×"),
        ("CPU ratio baseline/cached", "cpu_ratio_cached", "×"),
        ("CPU ratio baseline/built", "cpu_ratio_built", "×"),
    ]
    print(
        f"Office console, {args.students:,} students, {args.days} days of work, "
        f"medians of {args.rounds} interleaved requests"
    )
    print(f"{'':28}" + "".join(f"{k:>14}" for k in kinds))
    for label, key, unit in rows:
        print(f"{label:28}" + "".join(f"{results[k][key]:>11} {unit:<2}" for k in kinds))
    print(
        "ratio = baseline time / page time, the page's rate as a share of the baseline's "
        "(target ≥ 0.5 cached)"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
