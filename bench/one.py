"""One benchmark process on one fresh database (DATABASE_URL set by run.py): prints JSON.

--part raw-seed: seed the roster with plain executemany/COPY (the seeding baseline).
--part ours:     seed through the real bulk path, then time reads and a bulk pass beside raw SQL.
"""

import argparse
import gc
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import raw, timing, world  # noqa: E402
from lixiao import sqlbulk  # noqa: E402
from lixiao.clearance import queries, scope, services  # noqa: E402
from lixiao.clearance.models import Form, Source, State  # noqa: E402
from lixiao.directory import idnumbers  # noqa: E402
from lixiao.directory.services import upsert_students  # noqa: E402


def prepare(n: int):
    call_command("migrate", verbosity=0)
    w = world.build()
    rows = world.roster(n, w.colleges)
    codes = {c.id: c.code for c in w.colleges}
    counselor = {
        w.colleges[0].id: w.counselor.id
    }  # the counselor's college names them on the roster
    return w, rows, codes, counselor


def seed_ours(w, rows, codes, counselor) -> None:
    """The roster import's write path: students and accounts, then forms and records."""
    ids = upsert_students(rows).ids
    entries = [
        services.Enrolment(
            ids[r.student_number],
            r.college_id,
            counselor.get(r.college_id),
            r.attributes(codes[r.college_id]),
        )
        for r in rows
    ]
    services.enrol(services.Actor.system(Source.ROSTER), w.batch, entries)


def part_raw_seed(n: int) -> dict:
    w, rows, codes, counselor = prepare(n)
    crypto = [
        (
            idnumbers.encrypt(r.id_number),
            idnumbers.lookup_hash(r.id_number),
            idnumbers.mask(r.id_number),
        )
        for r in rows
    ]
    ids = raw.next_ids()
    rss_before = timing.maxrss_mb()
    seconds, cpu = timing.timed(
        lambda: raw.seed(w.batch, w.steps, rows, crypto, codes, counselor, ids)
    )
    return {
        "seed": {
            "seconds": seconds,
            "cpu": cpu,
            "rss_mb": timing.maxrss_mb(),
            "rss_before_mb": rss_before,
        }
    }


def part_ours(n: int, reads: int, bulk_runs: int, bulk_size: int) -> dict:
    w, rows, codes, counselor = prepare(n)
    rss_before = timing.maxrss_mb()
    seconds, cpu = timing.timed(lambda: seed_ours(w, rows, codes, counselor))
    result = {
        "seed": {
            "seconds": seconds,
            "cpu": cpu,
            "rss_mb": timing.maxrss_mb(),
            "rss_before_mb": rss_before,
        }
    }
    assert Form.objects.filter(batch=w.batch).count() == n, "every student has a form"
    if sqlbulk.is_postgres():
        # Autovacuum would analyse the new rows within a minute; do it now so plans are settled.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    rng = random.Random(7)
    batch = w.batch
    own = list(Form.objects.filter(batch=batch, college=w.colleges[0]).values_list("id", flat=True))
    picks = [rng.choice(own) for _ in range(reads + 2)]
    numbers = [rows[rng.randrange(n)].student_number for _ in range(reads + 2)]
    fragments = [rows[rng.randrange(n)].name[:2] for _ in range(reads + 2)]
    fragments = [f if len(f) == 2 else f + "伟" for f in fragments]
    rows = None  # a serving process holds no roster: leave the garbage collector little to scan
    gc.collect()
    college0 = w.colleges[0].id

    def read_form(i):
        def run():
            form = queries.form_detail(picks[i], scope.reach(w.counselor, batch.id).forms())
            return [(r.step.title, r.state, r.handled_at) for r in form.records.all()]

        return run

    def search(q):
        def run():
            qs = queries.search(scope.reach(w.handler, batch.id), queries.Filters(q=q))
            return [(f.student.name, f.college.name) for f in qs[:20]], qs.count()

        return run

    def stats(_i):
        return lambda: [
            (s.step.title, s.applicable, s.passed)
            for s in queries.step_statistics(scope.reach(w.office, batch.id))
        ]

    ops = result["ops"] = {}
    ops["form"] = {
        "ours": timing.measure(read_form, reads),
        "raw": timing.measure(lambda i: lambda: raw.read_form(picks[i], batch.id, college0), reads),
    }
    ops["search_number"] = {
        "ours": timing.measure(lambda i: search(numbers[i]), reads),
        "raw": timing.measure(
            lambda i: lambda: raw.search(batch.id, "s.student_number = %s", numbers[i]), reads
        ),
    }
    ops["search_name"] = {
        "ours": timing.measure(lambda i: search(fragments[i]), reads),
        "raw": timing.measure(
            lambda i: lambda: raw.search(batch.id, "s.name LIKE %s", f"%{fragments[i]}%"), reads
        ),
    }
    ops["stats"] = {
        "ours": timing.measure(stats, reads),
        "raw": timing.measure(lambda i: lambda: raw.statistics(batch.id), reads),
    }

    # The bulk pass: passes and revokes alternate so every run changes bulk_size fresh records.
    by_title = {s.title: s for s in w.steps}
    forms = sorted(Form.objects.filter(batch=batch).values_list("id", flat=True))[:bulk_size]
    step = by_title[world.BULK_STEP]
    handler = services.Actor(user=w.handler, source=Source.BULK, client_ip="10.0.0.1")

    def ours_bulk(i):
        to_state = State.PASSED if i % 2 == 0 else State.PENDING
        items = [services.Item(fid, to_state) for fid in forms]

        def run():
            outcome = services.apply_many(handler, batch, step, items)
            assert len(outcome.changed) == len(forms), "every record of the pass changes"

        return run

    raw_step = by_title["保卫处"]  # same shape as BULK_STEP, kept apart from the writer's counters

    def raw_bulk(i):
        to_state = State.PASSED if i % 2 == 0 else State.PENDING
        return lambda: raw.bulk_pass(batch.id, raw_step.id, forms, to_state, w.handler.id)

    ops["bulk"] = {"ours": timing.measure(ours_bulk, bulk_runs, warmup=0), "size": len(forms)}
    # The writer's counters must still equal a recount (raw runs after this, bypassing them).
    result["counters_consistent"] = queries.tallies(batch) == queries.recount(batch)
    ops["bulk"]["raw"] = timing.measure(raw_bulk, bulk_runs, warmup=0)
    result["rss_end_mb"] = timing.maxrss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("raw-seed", "ours"), required=True)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--reads", type=int, default=15)
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--bulk-size", type=int, default=10_000)
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if args.part == "raw-seed":
        result = part_raw_seed(args.students)
    else:
        result = part_ours(
            args.students, args.reads, args.bulk_runs, min(args.bulk_size, args.students)
        )
    result.update(
        vendor=connection.vendor,
        students=args.students,
        part=args.part,
        load=[load, os.getloadavg()[0]],
    )
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
