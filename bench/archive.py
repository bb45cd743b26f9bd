"""Batch lifecycle at scale: the archive export of an N-student batch, the lifecycle page's purge
preview, the retention purge and the audit purge, on fresh databases.

    .venv/bin/python bench/archive.py [--students 50000] [--db sqlite|postgres|both] [--runs 3]

Each database gets a child process on a fresh database (bench/databases.py) that seeds the
synthetic university (bench/world.py) through the real roster path, then gives it a season of
work through the writer: every non-final step passed on 60 % of the forms, in bulk calls of
10,000 (one audit event per record, stamped 400 days ago so the audit purge has something to
delete); on PostgreSQL it then runs ANALYZE (as autovacuum would within a minute). Then it ends
and archives the batch and times, each printed as the median of --runs:

- export: clearance.archive.build (students, every step of every student, counts, the whole
  audit of the batch → ZIP of CSV through the storage API); size of the ZIP; the builder's peak
  Python allocation (tracemalloc, one extra run) and the child's peak RSS;
- preview: clearance.services.purge.preview (what the lifecycle page shows for the batch);
- purge (once: it is destructive): purge_personal_data after moving the archive date back
  past the retention period — every student anonymised, files dropped, counts checked unchanged;
- audit purge (once): purge_audit deleting the 400-day-old events.

Timings never fail the run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py

BULK = 10_000


def child(n: int, runs: int) -> dict:
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from bench.one import prepare, seed_ours
    from bench.timing import maxrss_mb, traced_peak_mb
    from lixiao import sqlbulk
    from lixiao.clearance import archive, queries, services
    from lixiao.clearance.models import Batch, BatchArchive, Event, Form, Source, State
    from lixiao.clearance.services import purge

    w, rows, codes, counselor = prepare(n)
    seed_ours(w, rows, codes, counselor)
    office = services.Actor(w.office, Source.ADMIN)
    form_ids = list(Form.objects.filter(batch=w.batch).order_by("id").values_list("id", flat=True))
    chosen = form_ids[: n * 6 // 10]
    season = timezone.now() - timedelta(days=400)
    started = time.perf_counter()
    for step in w.steps:
        if step.is_final:
            continue
        for start in range(0, len(chosen), BULK):
            services.apply_many(
                office,
                w.batch,
                step,
                [services.Item(fid, State.PASSED) for fid in chosen[start : start + BULK]],
                at=season,
            )
    season_s = time.perf_counter() - started
    if sqlbulk.is_postgres():
        # Autovacuum would analyse the new rows within a minute; do it now, as the other
        # benches do, so the reads are timed on settled plans.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    now = timezone.now()
    Batch.objects.filter(pk=w.batch.pk).update(
        opens_at=now - timedelta(days=500), closes_at=now - timedelta(days=1)
    )
    batch = Batch.objects.get(pk=w.batch.pk)
    services.archive_batch(office, batch)  # the task backend is the dummy one: built below
    events = Event.objects.filter(batch=batch).count()

    def build_once():
        BatchArchive.objects.filter(batch=batch).update(status=BatchArchive.Status.QUEUED)
        result = archive.build(batch.id)
        assert "bytes" in result, result
        return result

    rss_before = maxrss_mb()
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        result = build_once()
        walls.append(time.perf_counter() - started)
    export_peak = traced_peak_mb(build_once)
    rss_after = maxrss_mb()

    batch.refresh_from_db()
    previews = []
    for _ in range(runs):
        started = time.perf_counter()
        shown = purge.preview(batch)
        previews.append(time.perf_counter() - started)
    assert shown.batches[0].purged == n, shown.batches[0]

    tallies = queries.tallies(batch)
    Batch.objects.filter(pk=batch.pk).update(archived_at=now - timedelta(days=365 * 4))
    started = time.perf_counter()
    plan = services.purge_personal_data(office)
    purge_s = time.perf_counter() - started
    assert plan.students == n and queries.tallies(batch) == tallies == queries.recount(batch)

    started = time.perf_counter()
    _before, deleted = services.purge_audit(office)
    audit_s = time.perf_counter() - started
    return {
        "students": n,
        "records": result["records"],
        "events": events,
        "season_s": season_s,
        "export_median_s": statistics.median(walls),
        "export_runs": walls,
        "zip_mb": result["bytes"] / 2**20,
        "export_peak_mb": export_peak,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "preview_median_s": statistics.median(previews),
        "purge_s": purge_s,
        "audit_deleted": deleted,
        "audit_purge_s": audit_s,
    }


def parent(args) -> int:
    from bench import databases

    kinds = ["sqlite"] if args.db in ("sqlite", "both") else []
    if args.db in ("postgres", "both"):
        if databases.postgres_reachable(args.pg_url):
            kinds.append("postgres")
        else:
            print(f"PostgreSQL not reachable at {args.pg_url}: skipped")
    for kind in kinds:
        url, var_dir = databases.fresh(kind, "lixiao_bench_archive", args.pg_url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LIXIAO_VAR_DIR": var_dir,
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "lixiao.settings",
            "LIXIAO_TASK_BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "LIXIAO_AUDIT_RETENTION_DAYS": "180",
            "LOG_LEVEL": "WARNING",
        }
        print(f"· {kind}: {args.students:,} students …", flush=True)
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", "--students", str(args.students),
                 "--runs", str(args.runs)],
                env=env, cwd=ROOT, check=True, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            databases.drop(kind, "lixiao_bench_archive", var_dir, args.pg_url)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        runs = ", ".join(f"{s:.2f}" for s in r["export_runs"])
        print(
            f"\n{kind}: {r['students']:,} students, {r['records']:,} step rows, {r['events']:,} audit events"
        )
        print(f"  season of work (setup, not timed as a target)   {r['season_s']:8.1f} s")
        print(
            f"  archive export, median of {len(r['export_runs'])} ({runs} s)   {r['export_median_s']:8.2f} s"
        )
        print(f"  archive file (ZIP of CSV)                        {r['zip_mb']:8.1f} MB")
        print(f"  export's peak Python allocation (tracemalloc)    {r['export_peak_mb']:8.1f} MB")
        print(
            f"  child's peak RSS before / after the exports      {r['rss_before_mb']:5.0f} / {r['rss_after_mb']:.0f} MB"
        )
        print(f"  lifecycle page's purge preview, median           {r['preview_median_s']:8.2f} s")
        print(f"  purge_personal_data of every student (once)      {r['purge_s']:8.2f} s")
        print(
            f"  purge_audit of {r['audit_deleted']:,} events (once)           {r['audit_purge_s']:8.2f} s"
        )
        print(f"  load average when done: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.students, args.runs)))
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
