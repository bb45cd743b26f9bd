"""Two nodes behind nginx behave as one: what one node writes, the other serves at once; a node
killed mid-run loses no acknowledged write; rules and audit hold under concurrent writers."""

import base64
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

from tests.cluster.conftest import api_headers, login

CHROMIUM = Path("/usr/bin/chromium")
# A valid 1×1 PNG: attachments are checked by content.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_a_browser_logs_in_through_nginx_and_gets_static_files_from_it(cluster):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "the cluster test needs Debian's chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            statics = []
            page.on(
                "response",
                lambda r: statics.append((r.url, r.status)) if "/static/" in r.url else None,
            )
            page.goto(f"{cluster.nginx}/accounts/login/")
            page.fill("input[name=username]", "2022000001")
            page.fill("input[name=password]", "lixiao-demo")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/me/.*"))
            assert "我的离校单" in page.content() or "离校单" in page.content()
            assert "2022000001" in page.content()
        finally:
            browser.close()
    assert statics and all(status == 200 for _url, status in statics), statics
    css = requests.get(next(u for u, _s in statics if u.endswith(".css")), timeout=10)
    assert "immutable" in css.headers.get("Cache-Control", "")


def test_an_attachment_uploaded_through_node_a_downloads_through_node_b(cluster):
    record_id = cluster.facts["me"]["学生公寓"][0]
    on_a = login(cluster.a, "2022000001")
    form_page = on_a.get(f"{cluster.a}/me/steps/{record_id}/message/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.text).group(1)
    sent = on_a.post(
        f"{cluster.a}/me/steps/{record_id}/message/",
        data={
            "kind": "objection",  # 异议: open on a step in any state
            "message": "已在公寓办理退宿，附收据照片",
            "csrfmiddlewaretoken": token,
        },
        files={"attachment": ("收据.png", PNG, "image/png")},
        headers={"Referer": f"{cluster.a}/me/steps/{record_id}/message/"},
        allow_redirects=False,
        timeout=30,
    )
    assert sent.status_code == 302, sent.text[:500]
    (objection_id,) = cluster.query(
        "SELECT id FROM objections_objection WHERE record_id = %s ORDER BY id DESC LIMIT 1",
        record_id,
    )[0]
    # The same person's session, on the other node: sessions and files live in the database.
    on_b = requests.Session()
    on_b.cookies.update(on_a.cookies)
    got = on_b.get(f"{cluster.b}/me/messages/{objection_id}/attachment/", timeout=30)
    assert got.status_code == 200
    assert got.content == PNG
    assert not list(Path(cluster.stack.var_dir).glob("media/**/*.png"))  # nothing on a node's disk


def test_a_pass_through_node_a_shows_on_the_students_page_through_node_b_at_once(cluster):
    record_id, state = cluster.facts["me"]["档案馆"]
    student = login(cluster.b, "2022000001")
    before = student.get(f"{cluster.b}/me/", timeout=30).text  # cached in Redis now
    assert f'id="step-{record_id}"' in before
    handler = login(cluster.a, "archives")
    verb = "revoke" if state == "passed" else "pass"
    for action in (verb, "revoke" if verb == "pass" else "pass"):
        answer = handler.post(
            f"{cluster.a}/api/v1/desk/records/{record_id}/{action}",
            json={"note": "集群测试"},
            headers=api_headers(handler),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        now = answer.json()["state"]
        page = student.get(f"{cluster.b}/me/", timeout=30).text
        section = page[page.index(f'id="step-{record_id}"') :][:3000]
        assert ("已办理" if now == "passed" else "未办理") in section, (action, now)


def _chain_ok(events, current):
    """Each event starts where the previous ended, and the last ends at the record's state."""
    state = None
    for from_state, to_state in events:
        if state is not None and from_state != state:
            return False
        state = to_state
    return state is None or state == current


def test_concurrent_pass_and_revoke_through_both_nodes_keep_the_rules_and_the_audit(cluster):
    records = cluster.facts["records"]
    forms = [int(f) for f in list(records)[:8]]
    office = {n: login(url, "admin") for n, url in (("a", cluster.a), ("b", cluster.b))}
    dorm = {n: login(url, "dorm") for n, url in (("a", cluster.a), ("b", cluster.b))}
    lead = {n: login(url, "counselor-cs") for n, url in (("a", cluster.a), ("b", cluster.b))}
    urls = {"a": cluster.a, "b": cluster.b}

    def post(sessions, node, record_id, action):
        s = sessions[node]
        r = s.post(
            f"{urls[node]}/api/v1/desk/records/{record_id}/{action}",
            json={"note": ""},
            headers=api_headers(s),
            timeout=60,
        )
        assert r.status_code in (200, 409), (r.status_code, r.text[:300])
        return r.status_code

    # Every required step but 学生公寓 passed, so the final step hangs on that one race.
    for form in forms:
        for title, (rid, state, required, final) in records[str(form)].items():
            if required and not final and title != "学生公寓" and state != "not_required":
                post(office, "a", rid, "pass")

    def toggler(form, node):
        rid = records[str(form)]["学生公寓"][0]
        for i in range(12):
            post(dorm, node, rid, "revoke" if i % 2 else "pass")

    def finisher(form, node):
        rid = records[str(form)]["院系离校"][0]
        for i in range(12):
            post(lead, node, rid, "pass" if i % 3 else "revoke")

    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = []
        for k, form in enumerate(forms):
            jobs.append(pool.submit(toggler, form, "a" if k % 2 else "b"))
            jobs.append(pool.submit(finisher, form, "b" if k % 2 else "a"))
        for job in jobs:
            job.result()

    rows = cluster.query(
        """SELECT r.form_id, r.id, r.state, s.required, s.is_final
           FROM clearance_record r JOIN clearance_step s ON s.id = r.step_id
           WHERE r.form_id = ANY(%s)""",
        forms,
    )
    by_form = {}
    for form_id, rid, state, required, final in rows:
        by_form.setdefault(form_id, []).append((rid, state, required, final))
    for form_id, recs in by_form.items():
        final_passed = any(final and state == "passed" for _r, state, _q, final in recs)
        pending_required = [
            r for r, state, req, final in recs if req and not final and state == "pending"
        ]
        assert not (final_passed and pending_required), (
            f"form {form_id}: final passed beside {pending_required}"
        )
    for form_id, recs in by_form.items():
        for rid, state, _required, _final in recs:
            events = cluster.query(
                "SELECT from_state, to_state FROM clearance_event WHERE record_id = %s"
                " AND to_state <> '' ORDER BY id",
                rid,
            )
            assert _chain_ok(events, state), (form_id, rid, state, events)


def test_each_background_task_runs_once_on_whichever_worker_takes_it(cluster):
    from tests import stack

    stack.manage(
        cluster.stack.env,
        "shell",
        "-v0",
        "-c",
        "from lixiao.notify.tasks import send_emails\nfor _ in range(30): send_emails.enqueue([])",
    )
    deadline = time.monotonic() + 120  # a bound on waiting, not a timing assertion
    while time.monotonic() < deadline:
        (waiting,) = cluster.query(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status <> 'SUCCESSFUL'"
        )[0]
        if waiting == 0:
            break
        time.sleep(0.5)
    runs = cluster.query(
        "SELECT worker_ids FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = 'lixiao.notify.tasks.send_emails'"
    )
    assert len(runs) == 30 and waiting == 0
    assert all(len(worker_ids) == 1 for (worker_ids,) in runs)  # claimed once, run once


def test_a_scheduled_sync_runs_once_per_interval_with_a_scheduler_on_each_node(cluster):
    for name in ("scheduler-a", "scheduler-b"):
        cluster.stack._start(
            name,
            [stack_python(), "manage.py", "sync", "--every", "3s"],
            cluster.stack.env,
        )
    time.sleep(10)  # about three intervals; what is asserted is the count per interval
    for name in ("scheduler-a", "scheduler-b"):
        cluster.stack.kill(name, signal.SIGTERM)
    slots = cluster.query("SELECT slot, finished_at FROM infra_scheduleslot WHERE job = 'sync:*'")
    assert len(slots) >= 2
    assert len({slot for slot, _finished in slots}) == len(slots)  # one claim per interval
    (runs,) = cluster.query(
        "SELECT count(*) FROM integrations_syncrun WHERE trigger = 'schedule'"
        " AND source_id = (SELECT min(id) FROM integrations_integrationsource)"
    )[0]
    # One run of each source per interval, not one per scheduler (the stop may cut the last).
    finished = sum(1 for _slot, done in slots if done is not None)
    assert finished <= runs <= len(slots)


def test_metrics_of_a_node_add_up_its_gunicorn_workers(cluster):
    def failures():
        text = requests.get(f"{cluster.a}/metrics", timeout=10).text
        return float(re.search(r"^lixiao_login_failures_total (\S+)$", text, re.M).group(1))

    before = failures()
    for _ in range(4):  # spread over node A's two processes by the kernel (5 would lock it)
        s = requests.Session()
        page = s.get(f"{cluster.a}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        s.post(
            f"{cluster.a}/accounts/login/",
            data={
                "username": "2022000003",
                "password": "wrong-Guess-1",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{cluster.a}/accounts/login/"},
            timeout=10,
        )
    assert failures() == before + 4
    assert requests.get(f"{cluster.nginx}/metrics", timeout=10).status_code == 404


def stack_python():
    import sys

    return sys.executable


def test_a_task_worker_killed_mid_import_is_noticed_and_the_import_done_once(cluster):
    """kill -9 the worker running a 6,000-row roster import at 20 % or more: its transaction rolls
    back, the other worker notices the silence (LIXIAO_WORKER_DEAD_SECONDS=5 here) and runs the
    import again; the page ends at "已导入", never stuck at the progress bar."""
    from tests.console.importing import roster_file, roster_row

    batch = cluster.facts["batch"]
    rows = [roster_row(f"2026{i:06d}", f"导入{i}", "CS", 5000 + i) for i in range(6000)]
    office = login(cluster.a, "admin")
    page = office.get(f"{cluster.a}/console/batches/{batch}/roster/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    uploaded = office.post(
        f"{cluster.a}/console/batches/{batch}/roster/",
        data={"csrfmiddlewaretoken": token},
        files={"file": ("名单.xlsx", roster_file(rows))},
        headers={"Referer": f"{cluster.a}/console/batches/{batch}/roster/"},
        allow_redirects=False,
        timeout=120,
    )
    assert uploaded.status_code == 302, uploaded.text[:300]
    preview = uploaded.headers["Location"]
    job_id = int(re.search(r"/roster/(\d+)/", preview).group(1))
    confirmed = office.post(
        f"{cluster.a}/console/batches/{batch}/roster/{job_id}/confirm/",
        data={"csrfmiddlewaretoken": office.cookies["csrftoken"]},
        headers={"Referer": f"{cluster.a}{preview}"},
        allow_redirects=False,
        timeout=120,
    )
    assert confirmed.status_code == 302
    pids = {
        proc.pid: name for name, proc in cluster.stack.procs.items() if name.startswith("worker")
    }
    deadline = time.monotonic() + 120  # bounds on waiting, not timing assertions
    victim, seen = None, set()
    with psycopg.connect(cluster.db_url, autocommit=True) as conn:
        while time.monotonic() < deadline and victim is None:
            row = conn.execute(
                "SELECT t.status, t.worker_ids, j.progress FROM tabular_importjob j"
                " LEFT JOIN django_tasks_database_dbtaskresult t"
                " ON t.task_path = 'lixiao.console.importers.apply_import'"
                " WHERE j.id = %s ORDER BY t.enqueued_at DESC LIMIT 1",
                (job_id,),
            ).fetchone()
            seen.add((row[0], row[2]))
            if row[0] == "RUNNING" and row[2] >= 20:
                beat = conn.execute(
                    "SELECT pid FROM infra_workerbeat WHERE worker_id = %s", (row[1][-1],)
                ).fetchone()
                victim = pids.get(beat[0]) if beat else None
            time.sleep(0.02)
    assert victim, (
        "the import never showed as running at 20 % or more",
        sorted(seen, key=str),
        pids,
        cluster.query("SELECT worker_id, pid FROM infra_workerbeat"),
        cluster.query("SELECT worker_ids FROM django_tasks_database_dbtaskresult"),
    )
    cluster.stack.kill(victim, signal.SIGKILL)
    status = None
    while time.monotonic() < deadline + 180 and status not in ("applied", "failed"):
        time.sleep(0.5)
        ((status, context),) = cluster.query(
            "SELECT status, context FROM tabular_importjob WHERE id = %s", job_id
        )
    assert status == "applied" and context.get("retries") == 1, (status, context)
    ((students, forms),) = cluster.query(
        "SELECT count(DISTINCT s.id), count(f.id) FROM directory_student s"
        " JOIN clearance_form f ON f.student_id = s.id AND f.batch_id = %s"
        " WHERE s.student_number LIKE '2026%%' AND length(s.student_number) = 10",
        batch,
    )
    assert students == forms == 6000
    shown = office.get(f"{cluster.a}{preview}", headers={"HX-Request": "true"}, timeout=30).text
    assert "已导入" in shown and "正在后台导入" not in shown


def test_one_node_killed_mid_run_loses_no_acknowledged_write(cluster):
    """kill -9 node A while handlers pass steps through nginx: the rest go through node B, and
    every pass nginx acknowledged (200) is in the database with its audit event."""
    records = cluster.facts["records"]
    targets = [records[f]["保卫处（户籍迁移）"][0] for f in list(records)[8:40]]
    targets += [records[f]["校园卡中心"][0] for f in list(records)[8:40]]
    handlers = {"保卫处（户籍迁移）": "security", "校园卡中心": "card"}
    sessions = {u: login(cluster.nginx, u) for u in handlers.values()}
    title_of = {}
    for f in list(records)[8:40]:
        for title in handlers:
            title_of[records[f][title][0]] = title
    acknowledged, failed, after_kill = [], [], []
    killed = threading.Event()
    lock = threading.Lock()

    def worker(chunk):
        for rid in chunk:
            session = sessions[handlers[title_of[rid]]]
            try:
                r = session.post(
                    f"{cluster.nginx}/api/v1/desk/records/{rid}/pass",
                    json={"note": "切换节点测试"},
                    headers=api_headers(session),
                    timeout=60,
                )
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                (acknowledged if ok else failed).append(rid)
                if ok and killed.is_set():
                    after_kill.append(rid)
            time.sleep(0.05)

    chunks = [targets[i::4] for i in range(4)]
    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    while len(acknowledged) < len(targets) // 4:
        time.sleep(0.05)
    cluster.stack.kill("a", signal.SIGKILL)
    killed.set()
    for t in threads:
        t.join(timeout=300)
    print(
        f"\nkill -9 node A: {len(acknowledged)} passes acknowledged ({len(after_kill)} after the kill),"
        f" {len(failed)} failed"
    )
    assert after_kill, "no request went through after node A was killed"
    assert len(failed) <= len(threads), (
        f"more failures than requests in flight at the kill: {failed}"
    )
    passed = dict(
        cluster.query("SELECT id, state FROM clearance_record WHERE id = ANY(%s)", acknowledged)
    )
    audited = {
        rid
        for (rid,) in cluster.query(
            "SELECT record_id FROM clearance_event WHERE record_id = ANY(%s) AND to_state = 'passed'",
            acknowledged,
        )
    }
    lost = [rid for rid in acknowledged if passed.get(rid) != "passed" or rid not in audited]
    assert not lost, f"acknowledged but not stored: {lost}"
    # The survivor still answers, through nginx and directly.
    assert requests.get(f"{cluster.nginx}/healthz", timeout=10).status_code == 200
    assert requests.get(f"{cluster.b}/readyz", timeout=10).json()["status"] in ("ok", "degraded")
