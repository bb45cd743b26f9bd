"""Prometheus metrics: only from allowed addresses; the office's gauges and per-view latency."""

import re

import pytest

from lixiao.clearance import services
from lixiao.monitoring import logs, requestid
from tests.conftest import record

pytestmark = pytest.mark.django_db


def value(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.M)
    assert match, f"{name} {labels} not in the metrics"
    return float(match.group(1))


def test_metrics_are_refused_to_an_address_not_allowed(uni, client):
    response = client.get("/metrics", REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 403
    assert "LIXIAO_METRICS_ALLOW" in response.content.decode()


def test_metrics_allow_a_configured_network(uni, client, settings):
    settings.LIXIAO_METRICS_ALLOW = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_office_gauges_follow_the_desk(uni, client):
    batch = uni.batch.name
    before = client.get("/metrics").content.decode()
    pending = value(before, "lixiao_records_pending", batch=batch, step="图书馆")
    assert value(before, "lixiao_forms", batch=batch) == 3
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    after = client.get("/metrics").content.decode()
    assert value(after, "lixiao_records_pending", batch=batch, step="图书馆") == pending - 1
    assert value(after, "lixiao_forms_completed", batch=batch) >= 0
    assert value(after, "lixiao_tasks_queued") == 0


def test_failed_logins_and_latency_per_view_are_counted(uni, client):
    before = value(client.get("/metrics").content.decode(), "lixiao_login_failures_total")
    client.post("/accounts/login/", {"username": "L2001", "password": "Wrong-Guess-1"})
    client.force_login(uni.student.user)
    client.get("/me/")
    client.logout()
    text = client.get("/metrics").content.decode()
    assert value(text, "lixiao_login_failures_total") == before + 1
    assert re.search(
        r'^django_http_requests_latency_seconds_by_view_method_count\{method="GET",view="portal:home"\} [1-9]',
        text,
        re.M,
    )
    assert re.search(r"^django_db_execute_total\{[^}]*\} [1-9]", text, re.M)


def test_each_response_carries_a_request_id_and_a_proxy_id_is_kept(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-0123456789ab")["X-Request-ID"] == (
        "nginx-0123456789ab"
    )
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nfake log line")["X-Request-ID"]
    assert "fake" not in forged


def test_json_logs_are_one_object_a_line_with_the_request_id(capsys):
    import json
    import logging.config

    logging.config.dictConfig(logs.config("json", "INFO"))
    try:
        token = requestid._current.set("req-abcdef123456")
        logging.getLogger("lixiao.test").warning("导入失败 %s", 42)
        requestid._current.reset(token)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        entry = json.loads(line)
        assert entry["message"] == "导入失败 42"
        assert entry["level"] == "WARNING" and entry["request_id"] == "req-abcdef123456"
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
