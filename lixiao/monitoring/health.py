"""/healthz (the process answers) and /readyz (it can serve: database, cache, storage; and how the
task queue and the integration sources are doing), as JSON with 200 or 503."""

import os
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lixiao.monitoring import access, tasks


@never_cache
@require_GET
def healthz(request):
    """Alive: no database, no cache — a restart would not help a failing dependency."""
    return JsonResponse({"status": "ok"})


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check() or {}
        ok = detail.pop("ok", True)
    except Exception as exc:  # any failure of a dependency is what the probe reports
        ok, detail = False, {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    key = f"readyz:{os.getpid()}"
    value = str(time.time())
    cache.set(key, value, 30)
    return {"ok": cache.get(key) == value}


def _storage():
    if isinstance(default_storage, FileSystemStorage):
        # A local directory: it must exist and be writable by this process.
        location = default_storage.location
        os.makedirs(location, exist_ok=True)
        return {"ok": os.access(location, os.W_OK), "backend": "local"}
    default_storage.exists("readyz-probe")
    return {"backend": type(default_storage).__name__}


def _tasks():
    return tasks.queue_state(stale_after=settings.LIXIAO_READY_QUEUE_SECONDS)


def _sources():
    from lixiao.integrations.models import IntegrationSource

    now = timezone.now()
    out, ok = {}, True
    for code, data_at, hours in IntegrationSource.objects.values_list(
        "code", "data_at", "stale_after_hours"
    ):
        age = (now - data_at).total_seconds() if data_at else None
        fresh = age is not None and (not hours or age <= timedelta(hours=hours).total_seconds())
        ok = ok and fresh
        out[code] = {"fresh": fresh, "age_seconds": round(age) if age is not None else None}
    return {"ok": ok, "sources": out}


# A node that cannot reach these cannot serve: the proxy should stop sending it requests (503).
CRITICAL = {"database": _database, "cache": _cache, "storage": _storage}
# These cannot be fixed by taking a node out; they make the status "degraded" (still 200) so a
# monitor alerts a person: a task queue nobody works off, a source that stopped sending data.
ADVISORY = {"tasks": _tasks, "sources": _sources}


@never_cache
@require_GET
def readyz(request):
    checks = {name: _timed(check) for name, check in CRITICAL.items()}
    if checks["database"]["ok"]:
        checks.update({name: _timed(check) for name, check in ADVISORY.items()})
    if not all(checks[name]["ok"] for name in CRITICAL):
        status, code = "fail", 503
    elif not all(c["ok"] for c in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {"status": status}
    if access.allowed(request):  # the details name sources and errors: monitors only
        body["checks"] = checks
    return JsonResponse(body, status=code)
