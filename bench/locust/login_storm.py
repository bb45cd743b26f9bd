"""The login storm: students log in one after another, as after a notice, each a new session."""

import itertools
import threading

from locust import FastHttpUser, constant, task

from bench.locust.common import accounts, log_in

_names = itertools.cycle(accounts("BENCH_ACCOUNTS"))
_lock = threading.Lock()


class Student(FastHttpUser):  # geventhttpclient: less of the 2 cores for the client
    wait_time = constant(0)  # the storm: every simulated browser logs in again at once

    @task
    def login(self):
        with _lock:
            username = next(_names)
        self.client.cookiejar.clear()
        log_in(self.client, username)
