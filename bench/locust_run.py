"""Run Locust headless for a bounded time against a URL and read its per-endpoint statistics."""

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUST = str(Path(sys.executable).parent / "locust")


def run(
    locustfile: str,
    host: str,
    users: int,
    seconds: int,
    env: dict,
    spawn_rate: float | None = None,
    user_classes: list[str] | None = None,
) -> dict[str, dict]:
    """{endpoint name: {requests, failures, rps, p50, p95, p99}}, "Aggregated" for all.

    Locust stops by itself after `seconds` (--run-time) and waits for running requests.
    """
    with tempfile.TemporaryDirectory(prefix="lixiao-locust-") as tmp:
        prefix = str(Path(tmp) / "stats")
        args = [
            LOCUST,
            "-f",
            str(ROOT / "bench" / "locust" / locustfile),
            "--headless",
            "--host",
            host,
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate or users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
            *(user_classes or []),
        ]
        done = subprocess.run(
            args,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        stats_file = Path(f"{prefix}_stats.csv")
        if not stats_file.exists():
            raise RuntimeError(
                f"locust wrote no statistics (exit {done.returncode}):\n{done.stderr[-3000:]}"
            )
        errors = Path(f"{prefix}_failures.csv")
        failures = list(csv.DictReader(errors.open(encoding="utf-8"))) if errors.exists() else []
        out = {}
        for row in csv.DictReader(stats_file.open(encoding="utf-8")):
            out[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": _ms(row["50%"]),
                "p95": _ms(row["95%"]),
                "p99": _ms(row["99%"]),
            }
        out["_failures"] = failures
        return out


def _ms(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")


def table(stats: dict[str, dict]) -> list[str]:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in stats.items():
        if name.startswith("_"):
            continue
        lines.append(
            f"| {name} | {s['requests']:,} | {s['rps']:.1f} | {s['p50']:.0f} | {s['p95']:.0f}"
            f" | {s['p99']:.0f} | {s['failures']} |"
        )
    return lines
