"""make bench-http: the student form page beside a baseline page under load, same run.

    .venv/bin/python bench/http_load.py [--students 50000] [--seconds 15] [--connections 32]

Seeds a fresh SQLite database (bench/portal.py's `prepare`), starts gunicorn with 2 workers
(gthread, HTTP keep-alive, persistent database connections) on 127.0.0.1 with LIXIAO_BENCH=1,
and drives it with wrk (Debian package `wrk`) at 32 connections, logged in as one student:

- baseline: /me/bench-baseline/ — the site layout, one template, one indexed 12-row query;
- form:     /me/ — the student's departure form;
- desk search: /desk/b/<batch>/?q=<学号> — a handler's search result page (logged in as the
  school-wide handler).

Prints requests per second and the ratios (targets: form ≥ 0.8, desk search ≥ 0.6 × baseline).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ would come first on the path; the repo root goes there instead.
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

TARGET = 0.8
DESK_TARGET = 0.6  # the desk's search result page (issue: handler desk)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(n: int, env: dict) -> dict:
    """Seed in a child process (its memory and connections end with it); returns ids and cookie."""
    code = (
        "import json, sys; from bench import portal; s = portal.prepare(int(sys.argv[1]));"
        " s['cookie'] = portal.session_cookie(s['user_id']);"
        " s['handler_cookie'] = portal.session_cookie(s['handler_id']); print(json.dumps(s))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(n)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_until_up(url: str, cookie: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - http://127.0.0.1 only
                if response.status == 200 and response.geturl() == url:
                    return  # the page itself, not a page it redirected to
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer 200 (without a redirect) at {url}")


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-H",
            f"Cookie: sessionid={cookie}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    return {
        "rps": rps,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "p50": p50.group(1) if p50 else "?",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="baseline/form pairs, alternating")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    var_dir = tempfile.mkdtemp(prefix="lixiao-bench-http-")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}",
        "LIXIAO_VAR_DIR": var_dir,
        "DEBUG": "0",
        "LIXIAO_BENCH": "1",
        "DJANGO_SETTINGS_MODULE": "lixiao.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(ROOT),
    }
    server = None
    try:
        print(f"· seeding {args.students:,} students (SQLite) …", flush=True)
        started = time.perf_counter()
        seeded = seed(args.students, env)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "lixiao.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        search = f"{base}/desk/b/{seeded['batch_id']}/?q={seeded['student_number']}"
        pages = {  # name: (url, session cookie)
            "baseline": (f"{base}/me/bench-baseline/", seeded["cookie"]),
            "form": (f"{base}/me/", seeded["cookie"]),
            "desk search": (search, seeded["handler_cookie"]),
        }
        for url, cookie in pages.values():
            wait_until_up(url, cookie)
        for url, cookie in pages.values():  # warm the workers' caches and connections
            wrk(url, cookie, 2, args.connections)
        results: dict[str, list[dict]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, (url, cookie) in pages.items():
                results[name].append(wrk(url, cookie, args.seconds, args.connections))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)

    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in results.items()}
    ratio = best["form"]["rps"] / best["baseline"]["rps"]
    desk_ratio = best["desk search"]["rps"] / best["baseline"]["rps"]
    lines = [
        f"## make bench-http — {args.students:,} students, SQLite, gunicorn 2 workers (gthread ×4,"
        f" keep-alive), wrk {args.connections} connections × {args.seconds} s, {os.cpu_count()} CPUs",
        "",
        "| page | req/s (best of rounds) | all rounds | median latency | non-2xx |",
        "|---|---:|---|---:|---:|",
    ]
    for name, runs in results.items():
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        lines.append(
            f"| {name} | {best[name]['rps']:.0f} | {rounds}"
            f" | {best[name]['p50']} | {sum(r['non_2xx'] for r in runs)} |"
        )
    lines += [
        "",
        f"form / baseline = {ratio:.2f} (target ≥ {TARGET}: {'met' if ratio >= TARGET else 'not met'})",
        f"desk search / baseline = {desk_ratio:.2f} (target ≥ {DESK_TARGET}:"
        f" {'met' if desk_ratio >= DESK_TARGET else 'not met'})",
    ]
    print("\n".join(lines))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"http-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
