"""Backup and restore of a seeded university: `manage.py backup` and `manage.py restore` timed as
an operator runs them (child processes), on SQLite and PostgreSQL: time, archive size, peak memory.

    .venv/bin/python bench/backup.py                      # 50,000 students, both engines
    .venv/bin/python bench/backup.py --students 5000 --db sqlite

The university is bench/world.py's (20 colleges, one category of 12 steps, one open batch),
seeded through the real bulk path, then a bulk pass of 10,000 records (10,000 audit events) and
ATTACHMENTS students' messages with a 50 KB attachment each (random bytes: photos do not
compress). Each backup writes a new archive; each restore goes into a new empty database and
upload directory. Times are medians of --runs runs; peak memory is the largest resident set of
the process tree (manage.py and pg_dump/pg_restore), from wait4. Prints markdown, writes JSON
to bench/out/.
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
sys.path[0] = str(ROOT)

from bench import databases  # noqa: E402

ATTACHMENTS = 200
KEY = "bench-backup-key-" + "b" * 32


def seed(n: int) -> None:
    """In a child process on a fresh database (DATABASE_URL set): the world, events, uploads."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from bench import one
    from lixiao.clearance import services
    from lixiao.clearance.models import Form, Record, Source, State
    from lixiao.objections.models import Objection

    w, rows, codes, counselor = one.prepare(n)
    one.seed_ours(w, rows, codes, counselor)
    batch, step = w.batch, w.steps[0]
    forms = sorted(Form.objects.filter(batch=batch).values_list("id", flat=True))[:10_000]
    handler = services.Actor(user=w.handler, source=Source.BULK)
    services.apply_many(handler, batch, step, [services.Item(f, State.PASSED) for f in forms])
    for record in Record.objects.filter(step=w.steps[1]).select_related("form__student")[
        :ATTACHMENTS
    ]:
        objection = Objection(
            form_id=record.form_id, record=record, step_id=record.step_id,
            student_id=record.form.student.user_id, kind="done", message="已办理，附凭证",
            attachment_type="jpeg", attachment_name="凭证.jpg",
        )  # fmt: skip
        objection.attachment.save("upload", ContentFile(os.urandom(50_000)), save=False)
        objection.save()


def run(args: list[str], env: dict) -> dict:
    """One manage.py command: wall seconds and peak RSS (MB) of its process tree."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    out, err = child.stdout.read().decode(), child.stderr.read().decode()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {out}{err}")
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "out": out.strip()}


def env_for(url: str, var_dir: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIXIAO_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, LIXIAO_VAR_DIR=var_dir, DEBUG="0", **extra)
    return env


def bench_engine(kind: str, n: int, runs: int, pg_url: str) -> dict:
    src_url, src_var = databases.fresh(kind, "lixiao_bench_backup_src", pg_url)
    out_dir = Path(src_var) / "archives"
    out_dir.mkdir()
    try:
        started = time.perf_counter()
        code = (
            f"import sys; sys.path[0] = {str(ROOT)!r}; from bench import backup; backup.seed({n})"
        )
        seeded = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env_for(src_url, src_var),
            capture_output=True, text=True,
        )  # fmt: skip
        if seeded.returncode:
            raise SystemExit(seeded.stdout + seeded.stderr)
        seed_seconds = time.perf_counter() - started
        result = {"students": n, "seed_seconds": seed_seconds}
        for sealed in (False, True):
            extra = {"LIXIAO_BACKUP_KEY": KEY} if sealed else {}
            name = "sealed" if sealed else "plain"
            backups, restores = [], []
            for i in range(runs):
                archive = out_dir / f"{name}-{i}.backup"
                backups.append(
                    run(["backup", "--output", str(archive)], env_for(src_url, src_var, **extra))
                )
                dst_url, dst_var = databases.fresh(kind, "lixiao_bench_backup_dst", pg_url)
                try:
                    restores.append(
                        run(["restore", str(archive)], env_for(dst_url, dst_var, **extra))
                    )
                finally:
                    databases.drop(kind, "lixiao_bench_backup_dst", dst_var, pg_url)
            result[name] = {
                "archive_mb": archive.stat().st_size / 1e6,
                "backup_seconds": statistics.median(b["seconds"] for b in backups),
                "backup_rss_mb": max(b["rss_mb"] for b in backups),
                "restore_seconds": statistics.median(r["seconds"] for r in restores),
                "restore_rss_mb": max(r["rss_mb"] for r in restores),
                "summary": backups[-1]["out"],
            }
        if kind == "sqlite":
            result["database_mb"] = Path(src_url.removeprefix("sqlite:///")).stat().st_size / 1e6
        return result
    finally:
        databases.drop(kind, "lixiao_bench_backup_src", src_var, pg_url)


def report(results: dict) -> str:
    lines = [
        "| engine | archive | size | backup (median) | backup peak RSS | restore (median) | restore peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, r in results.items():
        for name in ("plain", "sealed"):
            x = r[name]
            lines.append(
                f"| {kind} | {name} | {x['archive_mb']:.1f} MB | {x['backup_seconds']:.2f} s "
                f"| {x['backup_rss_mb']:.0f} MB | {x['restore_seconds']:.2f} s | {x['restore_rss_mb']:.0f} MB |"
            )
    shape = [f"{kind}: {r['plain']['summary']}" for kind, r in results.items()]
    return "\n".join(lines + [""] + shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3, help="backups and restores per archive kind")
    parser.add_argument("--pg-url", default=databases.PG_URL)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and not databases.postgres_reachable(args.pg_url):
        print(f"PostgreSQL not reachable at {args.pg_url}: SQLite only")
        kinds.remove("postgres")
    results = {kind: bench_engine(kind, args.students, args.runs, args.pg_url) for kind in kinds}
    print(f"Backup and restore, {args.students:,} students ({os.getloadavg()[0]:.1f} load)")
    print(report(results))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"backup-{args.students}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
