"""make bench: seed a synthetic university on fresh databases, time key operations beside raw SQL.

Each database gets two processes (bench/one.py): the raw-SQL seeding baseline and our own
path, each on its own fresh database, so settings, memory and caches never mix. Timings
never fail the run; the table marks each target met or not.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py

from bench import databases, report  # noqa: E402

OUT = ROOT / "bench" / "out"


def run_part(kind: str, part: str, args) -> dict:
    name = f"lixiao_bench_{part.replace('-', '_')}"
    url, var_dir = databases.fresh(kind, name, args.pg_url)
    out = Path(tempfile.mkstemp(prefix="lixiao-bench-", suffix=".json")[1])
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LIXIAO_VAR_DIR": var_dir,
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "lixiao.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "one.py"),
        "--part",
        part,
        "--out",
        str(out),
        "--students",
        str(args.students),
        "--reads",
        str(args.reads),
        "--bulk-runs",
        str(args.bulk_runs),
        "--bulk-size",
        str(args.bulk_size),
    ]
    print(f"· {kind}: {part} ({args.students:,} students) …", flush=True)
    try:
        subprocess.run(cmd, env=env, check=True, cwd=ROOT)
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)
        databases.drop(kind, name, var_dir, args.pg_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--students", type=int, help="roster size (default 50,000; 5,000 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 students and fewer repeats")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="both = SQLite, and PostgreSQL when reachable (default)",
    )
    parser.add_argument("--reads", type=int, help="timed runs per read operation (default 15)")
    parser.add_argument("--bulk-runs", type=int, help="timed bulk passes (default 3)")
    parser.add_argument("--bulk-size", type=int, default=10_000, help="records per bulk pass")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DATABASE_URL_PG", databases.PG_URL),
        help="a PostgreSQL server to create the benchmark databases on",
    )
    args = parser.parse_args()
    args.students = args.students or (5_000 if args.quick else 50_000)
    args.reads = args.reads or (5 if args.quick else 15)
    args.bulk_runs = args.bulk_runs or 3

    kinds = ["sqlite"] if args.db in ("sqlite", "both") else []
    if args.db in ("postgres", "both"):
        if databases.postgres_reachable(args.pg_url):
            kinds.append("postgres")
        elif args.db == "postgres":
            sys.exit(f"PostgreSQL is not reachable at {args.pg_url}")
        else:
            print(f"PostgreSQL not reachable at {args.pg_url}: SQLite only.")

    sections, results = [], {}
    for kind in kinds:
        raw_seed = run_part(kind, "raw-seed", args)
        ours = run_part(kind, "ours", args)
        results[kind] = {"raw_seed": raw_seed, "ours": ours}
        sections.append(report.section(ours, raw_seed))

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    table = f"## make bench — {stamp}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n\n"
    table += "\n\n".join(sections) + "\n"
    print("\n" + table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"bench-{stamp}.md").write_text(table, encoding="utf-8")
    (OUT / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"Written to {OUT.relative_to(ROOT)}/bench-{stamp}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
