"""Graduation day: students, desk handlers and the office, each with a session of their own.

bench/day.py logs every person in once beforehand and hands the sessions over in BENCH_SESSIONS
(JSON); each simulated user acts as a different person on every task, so thousands of distinct
sessions are exercised by a bounded number of concurrent users.
"""

import json
import os
import random
import re

from locust import FastHttpUser, constant, task

with open(os.environ["BENCH_SESSIONS"], encoding="utf-8") as fh:
    DAY = json.load(fh)
BATCH = DAY["batch"]
_FORM_LINK = re.compile(rf"/desk/b/{BATCH}/f/(\d+)/")


def _cookies(person: dict) -> dict:
    return {"Cookie": f"sessionid={person['sessionid']}; csrftoken={person['csrftoken']}"}


def _post_headers(person: dict, htmx: bool = True) -> dict:
    headers = {**_cookies(person), "X-CSRFToken": person["csrftoken"], "Referer": DAY["base"] + "/"}
    if htmx:
        headers["HX-Request"] = "true"
    return headers


class Baseline(FastHttpUser):
    """The site layout, one template, one indexed 12-row query (LIXIAO_BENCH=1)."""

    wait_time = constant(0)

    @task
    def baseline(self):
        person = random.choice(DAY["students"])
        self.client.cookiejar.clear()
        self.client.get("/me/bench-baseline/", headers=_cookies(person), name="baseline")


class Day(FastHttpUser):
    """The mix: students read their forms; handlers search, open, pass/revoke, bulk; the office follows up."""

    wait_time = constant(0)

    def _get(self, url: str, person: dict, name: str, ok=(200,)):
        self.client.cookiejar.clear()  # the person's session goes in the header, never a jar's
        with self.client.get(url, headers=_cookies(person), name=name, catch_response=True) as r:
            if r.status_code in ok and "/accounts/login/" not in (r.url or ""):
                r.success()
            else:
                r.failure(f"{name}: {r.status_code}")
            return r

    # --- students (about 70 % of requests) ---------------------------------------------------
    @task(55)
    def me(self):
        self._get("/me/", random.choice(DAY["students"]), "student: /me/")

    @task(10)
    def certificate_or_step(self):
        person = random.choice(DAY["students"])
        if person["complete"]:
            # 409 is the page saying the form is no longer complete (a handler revoked a step).
            self._get(f"/me/certificate/{BATCH}/", person, "student: certificate", ok=(200, 409))
        elif person.get("record"):
            self._get(f"/me/steps/{person['record']}/message/", person, "student: step page")

    # --- handlers (about 28 %) --------------------------------------------------------------------
    @task(8)
    def search_number(self):
        number, _name = random.choice(DAY["search"])
        self._get(
            f"/desk/b/{BATCH}/?q={number}", random.choice(DAY["handlers"]), "desk: search 学号"
        )

    @task(4)
    def search_name(self):
        _number, name = random.choice(DAY["search"])
        self._get(
            f"/desk/b/{BATCH}/?q={name[:2]}", random.choice(DAY["handlers"]), "desk: search 姓名"
        )

    @task(7)
    def open_form(self):
        self._get(
            f"/desk/b/{BATCH}/f/{random.choice(DAY['forms'])}/",
            random.choice(DAY["handlers"]),
            "desk: open form",
        )

    @task(7)
    def pass_or_revoke(self):
        person = random.choice(DAY["handlers"])
        form_id, record_id, state = random.choice(DAY["records"][str(person["step"])])
        action = "revoke" if state == "passed" else "pass"
        self.client.cookiejar.clear()
        with self.client.post(
            f"/desk/b/{BATCH}/r/{record_id}/{action}/",
            data={"note": ""},
            headers=_post_headers(person),
            name="desk: pass/revoke",
            catch_response=True,
        ) as r:
            if r.status_code == 200:
                r.success()
            else:
                r.failure(f"pass/revoke: {r.status_code}")

    @task(1)
    def bulk_pass(self):
        person = random.choice(DAY["handlers"])
        picked = random.sample(DAY["records"][str(person["step"])], 20)
        self.client.cookiejar.clear()
        with self.client.post(
            f"/desk/b/{BATCH}/bulk/",
            data={
                "step": person["step"],
                "action": random.choice(["pass", "revoke"]),
                "forms": ",".join(str(f) for f, _r, _s in picked),
                "note": "",
                "query": "",
            },
            headers=_post_headers(person, htmx=False),
            name="desk: bulk 20",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            # The desk answers a redirect back to the list, or the list with refusals named.
            if r.status_code in (200, 302) and "/accounts/login/" not in r.headers.get(
                "Location", ""
            ):
                r.success()
            else:
                r.failure(f"bulk: {r.status_code}")

    # --- the office (about 2 %) --------------------------------------------------------------------
    @task(2)
    def follow_up(self):
        self._get(
            f"/console/batches/{BATCH}/supervision/",
            random.choice(DAY["office"]),
            "office: follow-up",
        )
