"""gunicorn settings for every way Lixiao is served: the demo, production (systemd), the cluster test.

    gunicorn -c deploy/gunicorn.conf.py

Each value comes from an environment variable (listed in .env.example) so one file serves all.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

# gunicorn runs this file as a script: the repository root (for `lixiao`) may not be on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lixiao import env  # noqa: E402

wsgi_app = "lixiao.wsgi:application"
# Address to listen on: behind nginx a loopback address (or a unix socket: unix:/run/lixiao.sock).
bind = [env.text("LIXIAO_BIND", "127.0.0.1:8000")]
# gthread: a request that waits on the database gives the CPU to the next one. Two processes per
# core and four threads each kept p99 lowest on this 2-core machine (bench/login_storm.py).
worker_class = "gthread"
workers = env.integer("LIXIAO_WEB_WORKERS", 2 * (os.cpu_count() or 1))
threads = env.integer("LIXIAO_WEB_THREADS", 4)
# Keep-alive from nginx's upstream pool; a little longer than nginx's keepalive_timeout would
# make gunicorn close first and nginx retry, so it is shorter than nginx's default 60 s.
keepalive = 30
# A request that runs longer than this is a bug (large imports and exports run in the task worker).
timeout = env.integer("LIXIAO_WEB_TIMEOUT", 60)
graceful_timeout = 30
# Restart a process after this many requests (with jitter): bounds any slow leak.
max_requests = 5000
max_requests_jitter = 500
# Load the application before forking: a configuration error stops the server once, with one line
# (lixiao/wsgi.py), and the processes share the loaded code's memory.
preload_app = True
# Access log to stdout (journald keeps it); "-" off: LIXIAO_ACCESS_LOG=0.
accesslog = "-" if env.flag("LIXIAO_ACCESS_LOG", True) else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = "info"
# The proxy in front may tell the scheme (X-Forwarded-Proto); Django reads it through
# SECURE_PROXY_SSL_HEADER, and the client address through LIXIAO_PROXY_COUNT.
forwarded_allow_ips = env.text("LIXIAO_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The workers' heartbeat files in memory: on a slow or busy disk gunicorn would take a waiting
# worker for a hung one and kill it (gunicorn's own advice). Only gunicorn writes there.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
proc_name = "lixiao"

# Prometheus: each worker process counts for itself in files here, and /metrics adds them up.
# A fresh directory per start (systemd: RuntimeDirectory), emptied so no dead process counts.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="lixiao-metrics-"
)
shutil.rmtree(_metrics_dir, ignore_errors=True)
os.makedirs(_metrics_dir, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

if env.text("LOG_FORMAT", "text") == "json":
    # gunicorn's own lines (start, worker exits, the access log) as JSON objects too.
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["out"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["out"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["out"], "level": "INFO", "propagate": False},
        },
    }


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    # Database connections are opened per process after the fork (preload_app imports the
    # settings, never a connection); close anything inherited all the same.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
