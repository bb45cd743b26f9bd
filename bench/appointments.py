"""Appointments (预约办理) benchmark: booking and the pages around it at N students, fresh database.

    .venv/bin/python bench/appointments.py [--students 50000] [--db sqlite|postgres]
                                           [--bookings 2000] [--runs 30] [--threads 8]

Seeds the synthetic university (bench/world.py) through the real bulk path, opens appointments
on 学生公寓 (every day 8:00–12:00 and 14:00–20:00, 30-minute slots, 20 places, 7 days ahead) and
books `--bookings` students through the service — a third on today's slots (so the desk's day
has a full list), the rest over the next days. Then, medians of `--runs` (each run a fresh
student or slot):

- book / move: `services.book` (form and slot locks, count, insert, audit, version) of a new
  booking, and moving one to another slot;
- the booking page (/me/appointments/<record>/: 7 days of slots with free places) and the
  student's /me/ built afresh (page cache cleared) — beside /me/ of a student on a batch
  without any plan, the baseline;
- the desk's 今日预约 (today's list) and the live statistics panel with its appointments table
  beside the same panel for a handler whose step has no plan;
- a bulk pass of 5,000 学生公寓 records including every student holding a booking, with the
  writer's hook that closes them timed inside it, beside the same pass on students without
  bookings (median of 3);
- contention: `--threads` threads booking at once, 30 students each, into the same three empty
  slots of 档案馆 (6 places each): attempts per second, and whether any slot ended above its
  places (it must not).

Timings are medians and ratios, printed as markdown; they never fail the run.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # import bench.* as a package, never shadow the stdlib with bench/*.py

HOURS = [[("08:00", "12:00"), ("14:00", "20:00")]] * 7


def prepare(n: int, bookings: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lixiao.settings")
    django.setup()
    from django.core.management import call_command

    from bench import world
    from bench.one import seed_ours

    call_command("migrate", verbosity=0)
    w = world.build()
    rows = world.roster(n, w.colleges)
    codes = {c.id: c.code for c in w.colleges}
    seed_ours(w, rows, codes, {w.colleges[0].id: w.counselor.id})
    return {"world": w, "made": _book_many(w, bookings)}


def _plan(w, title: str = "学生公寓", capacity: int = 20):
    from datetime import time as clock

    from lixiao.appointments import services
    from lixiao.clearance import services as core
    from lixiao.clearance.models import Step

    step = Step.objects.get(category=w.batch.category, title=title)
    hours = [[(clock.fromisoformat(s), clock.fromisoformat(e)) for s, e in day] for day in HOURS]
    data = services.PlanData(True, 30, capacity, 7, hours, [])
    return services.save_plan(core.Actor(w.office, "admin"), w.batch, step, data)


def slots(plan, days: int) -> list[datetime]:
    """Every slot start from today to `days` days ahead (today's included, begun or not)."""
    from django.utils import timezone

    from lixiao.appointments.services import slot_at

    schedule = plan.schedule()
    today = timezone.localdate()
    return [
        slot_at(today + timedelta(days=d), begins)
        for d in range(days + 1)
        for begins, _end in schedule.slots_on(today + timedelta(days=d))
    ]


def _records(w, title: str):
    from lixiao.clearance.models import Record, State

    return list(
        Record.objects.filter(form__batch=w.batch, step__title=title, state=State.PENDING)
        .select_related("form__student__user")
        .order_by("id")
    )


def _book_many(w, count: int) -> int:
    """`count` bookings through the service: a third on today's slots, the rest ahead."""
    from django.utils import timezone

    from lixiao.appointments import services
    from lixiao.clearance import services as core

    plan = _plan(w)
    today = slots(plan, 0)
    ahead = [s for s in slots(plan, 7) if s > timezone.now() + timedelta(hours=1)]
    records = _records(w, "学生公寓")[:count]
    made = 0
    for i, record in enumerate(records):
        start = today[i % len(today)] if i % 3 == 0 else ahead[i % len(ahead)]
        actor = core.Actor(record.form.student.user, services.PORTAL)
        try:
            services.book(actor, record.id, start, now=start - timedelta(hours=1))
            made += 1
        except core.Refused:
            pass  # that slot is full: the next student takes another
    return made


def median_ms(fn, runs: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms) of runs of fn(i)."""
    walls, cpus = [], []
    for i in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn(i)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def measure(w, runs: int, threads: int) -> dict:
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from lixiao.appointments import services
    from lixiao.appointments.models import Booking, Plan
    from lixiao.clearance import services as core
    from lixiao.clearance.models import Grant, Record, Scope, Step
    from lixiao.directory.models import User

    plan = Plan.objects.get(batch=w.batch)
    waiting = set(Booking.objects.values_list("form_id", flat=True))
    fresh = [r for r in _records(w, "学生公寓") if r.form_id not in waiting]
    ahead = [s for s in slots(plan, 7) if s > timezone.now() + timedelta(hours=1)]
    out = {}
    made = []

    def book(i):
        record = fresh[i]
        made.append(
            services.book(
                core.Actor(record.form.student.user, services.PORTAL),
                record.id,
                ahead[-1 - (i % 40)],  # the last days: free places left
            )
        )

    out["book"] = median_ms(book, runs)

    def move(i):
        record = fresh[i]
        services.book(
            core.Actor(record.form.student.user, services.PORTAL), record.id, ahead[-41 - (i % 40)]
        )

    out["move"] = median_ms(move, runs)

    student = fresh[0]
    User.objects.filter(pk__in=[student.form.student.user_id, w.handler.pk]).update(
        uses_initial_password=False
    )
    client = Client()
    client.force_login(student.form.student.user)
    page = f"/me/appointments/{student.id}/"
    client.get(page)
    out["booking page"] = median_ms(lambda i: client.get(page), runs)

    def me(i):
        cache.clear()
        client.get("/me/")

    client.get("/me/")
    out["/me/ (built, appointments on)"] = median_ms(me, runs)
    # The baseline: the same page once the plan is gone (its bookings too), then restored.
    other = fresh[1]
    other_client = Client()
    other_client.force_login(other.form.student.user)
    User.objects.filter(pk=other.form.student.user_id).update(uses_initial_password=False)

    def me_other(i):
        cache.clear()
        other_client.get("/me/")

    Plan.objects.filter(pk=plan.pk).update(enabled=False)
    other_client.get("/me/")
    out["/me/ (built, no open plan)"] = median_ms(me_other, runs)
    Plan.objects.filter(pk=plan.pk).update(enabled=True)

    desk = Client()
    desk.force_login(w.handler)
    base = f"/desk/b/{w.batch.id}/"
    desk.get(base + "appointments/")
    out["desk 今日预约"] = median_ms(lambda i: desk.get(base + "appointments/"), runs)
    out["desk stats (with appointments)"] = median_ms(lambda i: desk.get(base + "stats/"), runs)
    security = Step.objects.get(category=w.batch.category, title="保卫处")
    Grant.objects.create(batch=w.batch, step=security, user=w.counselor, scope=Scope.SCHOOL)
    for g in Grant.objects.filter(user=w.counselor).exclude(step=security):
        g.delete()
    plain = Client()
    plain.force_login(w.counselor)
    User.objects.filter(pk=w.counselor.pk).update(uses_initial_password=False)
    plain.get(base + "stats/")
    out["desk stats (no plan)"] = median_ms(lambda i: plain.get(base + "stats/"), runs)

    out["_race"] = contention(w, threads, 30)  # before the bulk pass leaves few students pending
    # Bulk pass of 学生公寓 on 5,000 students, every booked one among them: the pass's time and,
    # measured inside it, the writer's hook closing their bookings. Then the same pass on 5,000
    # students without bookings (the hook finds the plan and nothing to close), median of 3.
    from lixiao.appointments.services import closing
    from lixiao.clearance import hooks

    booked = list(Booking.objects.filter(status="booked").values_list("form_id", flat=True))
    dorm = Step.objects.get(category=w.batch.category, title="学生公寓")
    pending = list(
        Record.objects.filter(step=dorm, state="pending")
        .exclude(form_id__in=booked)
        .order_by("form_id")
        .values_list("form_id", flat=True)
    )
    chosen = (booked + pending)[:5000]
    rest = [f for f in pending if f not in set(chosen)]
    office = core.Actor(w.office, "bulk")
    spent: list[tuple[float, float, int]] = []

    def timed_hook(announced):
        start, cpu = time.perf_counter(), time.process_time()
        n = closing.steps_changed(announced)
        spent.append((time.perf_counter() - start, time.process_time() - cpu, n))

    subscribers = hooks._subscribers[hooks.StepsChanged]  # noqa: SLF001 - a bench's stopwatch
    where = subscribers.index(closing.steps_changed)
    subscribers[where] = timed_hook
    try:
        out["bulk pass 5,000 closing bookings"] = median_ms(
            lambda i: core.apply_many(
                office, w.batch, dorm, [core.Item(f, "passed") for f in chosen]
            ),
            1,
        )
    finally:
        subscribers[where] = closing.steps_changed
    wall, cpu, closed = spent[0]
    out["— of which closing them (hook)"] = (wall * 1000, cpu * 1000)
    out["_closed"] = closed
    parts = [rest[k * 5000 : (k + 1) * 5000] for k in range(3)]
    out["bulk pass 5,000 without bookings"] = median_ms(
        lambda i: core.apply_many(
            office, w.batch, dorm, [core.Item(f, "passed") for f in parts[i]]
        ),
        3 if len(rest) >= 15000 else 1,
    )
    return out


def contention(w, threads: int, per_thread: int) -> dict:
    """Threads booking at once into the same three slots: bookings/s, refusals, capacity held."""
    from django.db import connection
    from django.utils import timezone

    from lixiao.appointments import services
    from lixiao.appointments.models import HOLDING
    from lixiao.clearance import services as core

    # Its own plan, on a step nobody has booked yet: three empty slots of six places.
    plan = _plan(w, "档案馆", capacity=6)
    records = _records(w, "档案馆")[: threads * per_thread]
    later = timezone.now() + timedelta(hours=1)
    targets = [s for s in slots(plan, 7) if s > later][:3]
    barrier = threading.Barrier(threads)
    counts = {"booked": 0, "full": 0, "errors": 0}
    lock = threading.Lock()

    def work(n):
        try:
            barrier.wait()
            for k, record in enumerate(records[n::threads]):
                try:
                    services.book(
                        core.Actor(record.form.student.user, services.PORTAL),
                        record.id,
                        targets[(n + k) % 3],
                    )
                    key = "booked"
                except core.Refused:
                    key = "full"
                with lock:
                    counts[key] += 1
        except Exception as exc:  # noqa: BLE001 - counted, shown in the table
            print("contention error:", repr(exc)[:300])  # the table counts it too
            with lock:
                counts["errors"] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    pool_threads = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool_threads:
        t.start()
    for t in pool_threads:
        t.join()
    seconds = time.perf_counter() - started
    over = [
        s
        for s in plan.slots.filter(starts_at__in=targets)
        if s.bookings.filter(status__in=HOLDING).count() > plan.capacity
    ]
    return {**counts, "seconds": seconds, "attempts": len(records), "over": len(over)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG"))
    args = parser.parse_args()
    from bench import databases

    name = "lixiao_bench_appointments"
    pg = args.pg_url or databases.PG_URL
    url, var_dir = databases.fresh(args.db, name, pg)
    os.environ.update(DATABASE_URL=url, LIXIAO_VAR_DIR=var_dir, DEBUG="0")
    try:
        started = time.perf_counter()
        seeded = prepare(args.students, args.bookings)
        print(
            f"seeded {args.students:,} students and {seeded['made']:,} bookings in "
            f"{time.perf_counter() - started:.1f} s ({args.db})"
        )
        w = seeded["world"]
        result = measure(w, args.runs, args.threads)
        race = result["_race"]
    finally:
        from django.db import connections

        connections.close_all()
        databases.drop(args.db, name, var_dir, pg)
    print(
        f"\n| {args.db}, {args.students:,} students, {seeded['made']:,} bookings | median | CPU |"
    )
    print("|---|---:|---:|")
    for label, value in result.items():
        if not label.startswith("_"):
            print(f"| {label} | {value[0]:.2f} ms | {value[1]:.2f} ms |")

    def cpu_ratio(on: str, off: str) -> float:
        return result[on][1] / result[off][1]

    closing_ms = result["— of which closing them (hook)"][0]
    bulk_ms = result["bulk pass 5,000 closing bookings"][0]
    print(
        f"\nCPU ratios: /me/ {cpu_ratio('/me/ (built, appointments on)', '/me/ (built, no open plan)'):.2f}× · "
        f"stats panel {cpu_ratio('desk stats (with appointments)', 'desk stats (no plan)'):.2f}× · "
        f"closing {result['_closed']:,} bookings took {closing_ms:.0f} ms of the pass's {bulk_ms:.0f} ms"
    )
    print(
        f"contention: {args.threads} threads, {race['attempts']} attempts on 3 slots of 6 places: "
        f"{race['booked']} booked, {race['full']} refused as full, {race['errors']} errors, "
        f"{race['attempts'] / race['seconds']:.0f} attempts/s; slots above their places: {race['over']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
