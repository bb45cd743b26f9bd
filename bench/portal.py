"""Student form page (/me/) benchmark: its median server time at N students (Django test client).

    .venv/bin/python bench/portal.py [--students 50000] [--db sqlite|postgres] [--runs 50]

Seeds a fresh database with the synthetic university (bench/world.py) through the real bulk
path, gives one student a realistic form (some steps passed with history, a library row
with a reason), then times GET /me/ as that student. bench/http_load.py reuses `prepare`.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py


def prepare(n: int) -> dict:
    """Migrate, seed n students, and return the measured student's user id and form id."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench import world
    from bench.one import seed_ours
    from lixiao.clearance import services
    from lixiao.clearance.models import Form, Record, Source, State
    from lixiao.directory.models import User
    from lixiao.integrations.models import IntegrationSource, SourceRow

    call_command("migrate", verbosity=0)
    w = world.build()
    rows = world.roster(n, w.colleges)
    codes = {c.id: c.code for c in w.colleges}
    seed_ours(w, rows, codes, {w.colleges[0].id: w.counselor.id})
    number = rows[n // 2].student_number
    form = Form.objects.select_related("student").get(batch=w.batch, student__student_number=number)
    office = services.Actor(user=w.office, source=Source.ADMIN)
    for rec in Record.objects.filter(form=form, state=State.PENDING).order_by("step__order")[3:8]:
        services.pass_record(office, rec.id, "现场核验")
    now = timezone.now()
    SourceRow.objects.create(
        source=IntegrationSource.objects.get(code="library"),
        student_number=number,
        cleared=False,
        reason="未还图书 2 册",
        updated_at=now,
        checked_at=now,
    )
    user = form.student.user
    # Past the forced password change, or every page would answer with a redirect to it.
    User.objects.filter(pk__in=[user.pk, w.handler.pk]).update(uses_initial_password=False)
    return {
        "user_id": user.pk,
        "form_id": form.pk,
        "student_number": number,
        "category_id": w.batch.category_id,
        "batch_id": w.batch.pk,
        "handler_id": w.handler.pk,  # a school-wide handler, for the desk search page (bench-http)
    }


def session_cookie(user_id: int) -> str:
    """A logged-in session (stored in the database) for this user."""
    from django.test import Client

    from lixiao.directory.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    return client.cookies["sessionid"].value


def time_page(user_id: int, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from lixiao.directory.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    for _ in range(3):
        assert client.get("/me/").status_code == 200
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/me/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get("/me/")
    return {
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "queries": len(ctx.captured_queries),
        "bytes": len(response.content),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG"))
    args = parser.parse_args()
    from bench import databases

    name = "lixiao_bench_portal"
    url, var_dir = databases.fresh(args.db, name, args.pg_url or databases.PG_URL)
    os.environ.update(DATABASE_URL=url, LIXIAO_VAR_DIR=var_dir, DEBUG="0")
    try:
        started = time.perf_counter()
        seeded = prepare(args.students)
        print(
            f"seeded {args.students:,} students in {time.perf_counter() - started:.1f} s ({args.db})"
        )
        result = time_page(seeded["user_id"], args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        databases.drop(args.db, name, var_dir, args.pg_url or databases.PG_URL)
    print(
        f"| page | students | median | min | queries | size |\n|---|---:|---:|---:|---:|---:|\n"
        f"| /me/ (student form, {args.db}) | {args.students:,} | {result['median_ms']:.2f} ms | "
        f"{result['min_ms']:.2f} ms | {result['queries']} | {result['bytes'] / 1024:.1f} KB |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
