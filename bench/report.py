"""The results table: one markdown section per database, ratios ours/raw, targets marked."""

import os
from dataclasses import dataclass

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    unit: str  # "s" or "ms"
    limit: float | None  # absolute target in `unit`, or None
    ratio_limit: float | None = None  # target on ours/raw instead


LINES = [
    Line("seed", "seed {n:,} students × 12 steps", "s", None, 1.5),
    Line("form", "read one form (form_detail + its records)", "ms", 3),
    Line("search_number", "search by 学号 (page of 20 + count)", "ms", 5),
    Line("search_name", "search by 2-character name fragment (page + count)", "ms", None),
    Line("stats", "per-step statistics of the batch (office)", "ms", 10),
    Line("bulk", "bulk pass of {bulk:,} records with audit events", "s", 2),
]


def _fmt(seconds: float, unit: str) -> str:
    return f"{seconds:.2f} s" if unit == "s" else f"{seconds * 1000:.2f} ms"


def _mem(ours: float, raw: float) -> str:
    return (
        f"{ours:.0f} / {raw:.0f} MB" if ours >= 10 else f"{ours * 1024:.0f} / {raw * 1024:.0f} KB"
    )


def section(ours: dict, raw_seed: dict) -> str:
    n = ours["students"]
    title = f"### {NAMES.get(ours['vendor'], ours['vendor'])} — {n:,} students × 12 steps"
    head = [
        "| operation | ours | ours CPU | raw SQL | ratio | target | met | peak memory ours / raw |",
        "|---|---:|---:|---:|---:|---|:-:|---:|",
    ]
    body = []
    for line in LINES:
        if line.key == "seed":
            mine, base = ours["seed"]["seconds"], raw_seed["seed"]["seconds"]
            cpu = ours["seed"]["cpu"]
            mem = f"{ours['seed']['rss_mb']:.0f} / {raw_seed['seed']['rss_mb']:.0f} MB maxrss"
        else:
            op = ours["ops"][line.key]
            mine, base = op["ours"]["median"], op["raw"]["median"]
            cpu = op["ours"]["cpu_median"]
            mem = _mem(op["ours"]["peak_mb"], op["raw"]["peak_mb"]) + " traced"
        ratio = mine / base if base else float("inf")
        if line.ratio_limit is not None:
            target, met = f"≤ {line.ratio_limit}× raw", ratio <= line.ratio_limit
        elif line.limit is not None:
            target = f"≤ {line.limit} {line.unit}"
            met = mine * (1000 if line.unit == "ms" else 1) <= line.limit
        else:
            target, met = "—", None
        mark = "—" if met is None else ("✓" if met else "✗")
        label = line.label.format(n=n, bulk=ours["ops"]["bulk"]["size"])
        body.append(
            f"| {label} | {_fmt(mine, line.unit)} | {_fmt(cpu, line.unit)} | {_fmt(base, line.unit)} | "
            f"{ratio:.2f} | {target} | {mark} | {mem} |"
        )
    runs = ours["ops"]["form"]["ours"]["runs"], ours["ops"]["bulk"]["ours"]["runs"]
    notes = [
        f"Medians of {runs[0]} runs for reads and {runs[1]} for the bulk pass "
        "(seeding: one run each, separate fresh databases).",
        "Load average (1 min) at start → end: raw seeding "
        f"{raw_seed['load'][0]:.1f} → {raw_seed['load'][1]:.1f}, ours {ours['load'][0]:.1f} → "
        f"{ours['load'][1]:.1f} on {os.cpu_count()} CPUs; CPU = this process only "
        "(includes SQLite's work, not the PostgreSQL server's).",
        "Writer's counters equal a recount of the records after the bulk passes: "
        + ("yes" if ours["counters_consistent"] else "**NO**"),
    ]
    if n != 50_000:
        notes.append(
            "Targets are stated for 50,000 students; this run seeded "
            f"{n:,}, so the absolute marks are indicative only."
        )
    return "\n".join([title, "", *head, *body, "", *notes])
