"""Probes a load balancer and a monitor use: /healthz, /readyz."""

import json

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency_to_a_monitor(uni, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    checks = body["checks"]
    assert {"database", "cache", "storage", "tasks", "sources"} <= set(checks)
    assert checks["database"]["ok"] and checks["cache"]["ok"] and checks["storage"]["ok"]
    assert checks["tasks"]["queued"] == 0
    # The test university's sources never received data: a monitor is told, the node stays in.
    assert body["status"] in ("ok", "degraded")


def test_readyz_is_503_when_the_cache_is_down(uni, client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "set", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["cache"]["ok"] is False
    assert "Connection refused" in body["checks"]["cache"]["error"]


def test_readyz_is_degraded_when_the_oldest_task_waits_too_long(uni, client, settings):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from lixiao.notify.tasks import send_emails

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.LIXIAO_READY_QUEUE_SECONDS = 60
    result = send_emails.using(backend="default").enqueue([])
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timezone.timedelta(minutes=10)
    )
    body = client.get("/readyz").json()
    assert body["status"] == "degraded"
    assert body["checks"]["tasks"]["ok"] is False
    assert body["checks"]["tasks"]["queued"] == 1
    assert body["checks"]["tasks"]["oldest_queued_seconds"] >= 600


def test_readyz_hides_the_details_from_other_addresses(uni, client):
    response = client.get("/readyz", REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 200
    assert json.loads(response.content) in ({"status": "ok"}, {"status": "degraded"})
