"""make bench-day: graduation day under load, in the demo's shape and in the cluster's.

    .venv/bin/python bench/day.py [--shape demo|cluster|both] [--students 30000] [--users 16]
                                  [--seconds 60] [--baseline-seconds 20]

For each shape it seeds the demo university with N students (`seed_demo --students N`), adds 40
desk handlers and a second office user (bench/day_prep.py), starts the servers —

- demo: SQLite, one gunicorn node from deploy/gunicorn.conf.py, its task worker (as `make demo`);
- cluster: PostgreSQL (a database created on --pg-url's server and dropped), Redis, files in the
  database, two gunicorn nodes and two task workers behind nginx (tests/stack.py, as
  `make test-cluster`) —

logs every person in once through the real login page (2,000 students, 40 handlers, 2 office
users: each its own session), then runs Locust headless for a bounded time, twice at the same
concurrency: the baseline page (/me/bench-baseline/: the layout, one indexed 12-row query), then
the mix (bench/locust/day.py: students read their form, sometimes the certificate or a step's
page; handlers search by 学号 and by name, open a form, pass or revoke, a bulk pass of 20; the
office's follow-up page). Each Locust user acts as a different person on every task.

It prints per endpoint req/s, p50/p95/p99 and errors, and last:
    graduation day: <shape> mix <N> req/s = <R> x baseline, p99 me <ms> ms, p99 pass <ms> ms, errors <n>
Targets (issue 12): 0 errors; R ≥ 0.5; p99 of the student page ≤ 250 ms, of a pass ≤ 400 ms.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* and tests.* as packages

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import requests  # noqa: E402

from bench import locust_run  # noqa: E402
from tests import stack  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TARGETS = {"R": 0.5, "me": 250.0, "pass": 400.0}


def log_in(base: str, username: str) -> dict:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/", timeout=60)
    token = CSRF.search(page.text).group(1)
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": "lixiao-demo", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302 or "sessionid" not in s.cookies:
        raise RuntimeError(f"login of {username} answered {r.status_code}")
    return {
        "username": username,
        "sessionid": s.cookies["sessionid"],
        "csrftoken": s.cookies["csrftoken"],
    }


def sessions(base: str, people: dict, threads: int) -> tuple[dict, float]:
    """Everyone logged in once (real logins, `threads` at a time); returns (day data, logins/s)."""
    names = (
        [p["username"] for p in people["students"]]
        + [h["username"] for h in people["handlers"]]
        + people["office"]
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        got = dict(zip(names, pool.map(lambda n: log_in(base, n), names), strict=True))
    rate = len(names) / (time.perf_counter() - started)
    day = dict(people)
    day["base"] = base
    day["students"] = [{**p, **got[p["username"]]} for p in people["students"]]
    day["handlers"] = [{**h, **got[h["username"]]} for h in people["handlers"]]
    day["office"] = [got[u] for u in people["office"]]
    return day, rate


def seed(env: dict, students: int, var_dir: Path) -> dict:
    stack.manage(env, "migrate", "--no-input", "-v0")
    started = time.perf_counter()
    stack.manage(env, "seed_demo", "--students", str(students), timeout=3600)
    print(f"  seeded {students:,} students in {time.perf_counter() - started:.0f} s", flush=True)
    stack.manage(env, "collectstatic", "--no-input", "-v0")
    path = var_dir / "people.json"
    stack.manage(env, "shell", "-v0", "-c", f"from bench.day_prep import main; main({str(path)!r})")
    return json.loads(path.read_text(encoding="utf-8"))


def run_shape(shape: str, args) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"lixiao-day-{shape}-"))
    common = {
        "LIXIAO_BENCH": 1,
        "LIXIAO_STATIC_MANIFEST": 1,
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    pg_name = f"lixiao_day_{os.getpid()}"
    admin_url = args.pg_url.rsplit("/", 1)[0] + "/postgres"
    prefix = f"lixiao-day-{os.getpid()}"
    if shape == "demo":
        env = stack.base_env(var_dir, DATABASE_URL=f"sqlite:///{var_dir / 'day.sqlite3'}", **common)
    else:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env = stack.base_env(
            var_dir,
            DATABASE_URL=args.pg_url.rsplit("/", 1)[0] + f"/{pg_name}",
            LIXIAO_CACHE_URL=args.redis_url,
            LIXIAO_CACHE_PREFIX=prefix,
            LIXIAO_FILE_STORAGE="database",
            LIXIAO_PROXY_COUNT=1,
            **common,
        )
    running = stack.Stack(var_dir, env)
    try:
        print(f"· {shape}: seeding …", flush=True)
        people = seed(env, args.students, var_dir)
        if shape == "demo":
            url = running.node("web", workers=args.workers, threads=args.threads)
            running.worker("worker")
            described = f"demo (SQLite, one node: gunicorn {args.workers or 'default'} workers × {args.threads} threads)"
        else:
            running.node("a", workers=args.workers, threads=args.threads)
            running.node("b", workers=args.workers, threads=args.threads)
            running.worker("worker-a")
            running.worker("worker-b")
            url = running.nginx(["a", "b"])
            described = (
                f"cluster (PostgreSQL + Redis, nginx → 2 nodes × gunicorn {args.workers or 'default'}"
                f" workers × {args.threads} threads)"
            )
        day, login_rate = sessions(url, people, args.users)
        print(
            f"  {len(day['students']) + len(day['handlers']) + len(day['office']):,} people logged in"
            f" ({login_rate:.1f} logins/s at {args.users} concurrent)",
            flush=True,
        )
        sessions_file = var_dir / "sessions.json"
        sessions_file.write_text(json.dumps(day, ensure_ascii=False), encoding="utf-8")
        env_locust = {"BENCH_SESSIONS": str(sessions_file)}
        locust_run.run("day.py", url, args.users, 5, env_locust, user_classes=["Day"])  # warm-up
        baseline = locust_run.run(
            "day.py", url, args.users, args.baseline_seconds, env_locust, user_classes=["Baseline"]
        )
        load = os.getloadavg()[0]
        mix = locust_run.run(
            "day.py", url, args.users, args.seconds, env_locust, user_classes=["Day"]
        )
        load = max(load, os.getloadavg()[0])
    finally:
        running.close()
        if shape == "cluster":
            import psycopg
            import redis

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(match=f"{prefix}:*", count=500):
                client.delete(key)
        shutil.rmtree(var_dir, ignore_errors=True)
    return {
        "shape": shape,
        "described": described,
        "baseline": baseline,
        "mix": mix,
        "login_rate": login_rate,
        "load": load,
    }


def report(result: dict, args) -> list[str]:
    mix, base = result["mix"], result["baseline"]
    total = mix["Aggregated"]
    errors = total["failures"] + base["Aggregated"]["failures"]
    ratio = total["rps"] / base["baseline"]["rps"] if base["baseline"]["rps"] else 0.0
    me = mix.get("student: /me/", {}).get("p99", float("nan"))
    passed = mix.get("desk: pass/revoke", {}).get("p99", float("nan"))
    lines = [
        f"## graduation day — {result['described']}",
        f"{args.students:,} students (demo university: 2 batches, 12 and 10 steps), 2,000 students +"
        f" 40 handlers + 2 office users logged in ({result['login_rate']:.1f} logins/s),"
        f" Locust {args.users} concurrent users, baseline {args.baseline_seconds} s then mix"
        f" {args.seconds} s, {os.cpu_count()} CPUs shared with Locust, load average up to {result['load']:.1f}",
        "",
        *locust_run.table({**{"baseline": base["baseline"]}, **mix}),
        "",
    ]
    for failure in (mix["_failures"] + base["_failures"])[:8]:
        lines.append(f"- {failure['Occurrences']}× {failure['Name']}: {failure['Error']}")
    met = (
        errors == 0 and ratio >= TARGETS["R"] and me <= TARGETS["me"] and passed <= TARGETS["pass"]
    )
    lines.append(
        f"targets: 0 errors, R ≥ {TARGETS['R']}, p99 me ≤ {TARGETS['me']:.0f} ms, p99 pass ≤"
        f" {TARGETS['pass']:.0f} ms — {'met' if met else 'not met'}"
    )
    lines.append(
        f"graduation day: {result['shape']} mix {total['rps']:.0f} req/s = {ratio:.2f} x baseline,"
        f" p99 me {me:.0f} ms, p99 pass {passed:.0f} ms, errors {errors}"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", choices=["demo", "cluster", "both"], default="both")
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument(
        "--users", type=int, default=16, help="concurrent Locust users (both phases)"
    )
    parser.add_argument("--seconds", type=int, default=60, help="the mix's duration")
    parser.add_argument("--baseline-seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers per node")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("LIXIAO_CLUSTER_REDIS", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    if args.shape in ("cluster", "both") and not stack.have_nginx():
        raise SystemExit("the cluster shape needs Debian's nginx: apt-get install nginx")
    shapes = ["demo", "cluster"] if args.shape == "both" else [args.shape]
    out_lines = []
    for shape in shapes:
        lines = report(run_shape(shape, args), args)
        print("\n".join(lines), flush=True)
        out_lines += [*lines, ""]
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"day-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(
        "\n".join(out_lines), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
