"""Prometheus metrics at /metrics: django-prometheus's (latency per view, database queries) and the
office's gauges read at scrape time (forms complete, pending per step, task queue, sources).

Under gunicorn every worker process counts for itself; with PROMETHEUS_MULTIPROC_DIR set (by
deploy/gunicorn.conf.py) prometheus_client adds them up, so a scrape of any process sees the node.
"""

import os

from django.db.models import Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from lixiao.monitoring import access, tasks

LOGIN_FAILURES = Counter(
    "lixiao_login_failures", "Failed logins (wrong password, locked, unknown)."
)


def count_login_failure(sender, **kwargs):
    LOGIN_FAILURES.inc()


class OfficeCollector:
    """The numbers the supervising office watches on graduation day, from the maintained tallies
    (a few rows per batch: cheap enough for every scrape)."""

    def collect(self):
        from lixiao.clearance.models import Batch, FormTally, StepTally
        from lixiao.integrations.models import IntegrationSource

        batches = dict(Batch.objects.filter(enabled=True).values_list("pk", "name"))
        forms = GaugeMetricFamily("lixiao_forms", "Forms per enabled batch.", labels=["batch"])
        done = GaugeMetricFamily(
            "lixiao_forms_completed", "Completed forms per enabled batch.", labels=["batch"]
        )
        for row in (
            FormTally.objects.filter(batch_id__in=batches)
            .values("batch_id")
            .annotate(total=Sum("forms"), completed=Sum("completed"))
        ):
            name = batches[row["batch_id"]]
            forms.add_metric([name], row["total"] or 0)
            done.add_metric([name], row["completed"] or 0)
        pending = GaugeMetricFamily(
            "lixiao_records_pending", "Pending records per step.", labels=["batch", "step"]
        )
        for row in (
            StepTally.objects.filter(batch_id__in=batches)
            .values("batch_id", "step__title")
            .annotate(pending=Sum("pending"))
            .order_by("batch_id", "step__order")
        ):
            pending.add_metric([batches[row["batch_id"]], row["step__title"]], row["pending"] or 0)
        yield from (forms, done, pending)

        state = tasks.queue_state(stale_after=0)
        yield GaugeMetricFamily(
            "lixiao_tasks_queued", "Tasks waiting for a worker.", value=state["queued"]
        )
        yield GaugeMetricFamily("lixiao_tasks_running", "Tasks being run.", value=state["running"])
        yield GaugeMetricFamily(
            "lixiao_tasks_oldest_queued_seconds",
            "Age of the oldest waiting task.",
            value=state["oldest_queued_seconds"],
        )
        age = GaugeMetricFamily(
            "lixiao_source_data_age_seconds",
            "Seconds since each integration source last received data (absent: never).",
            labels=["source"],
        )
        now = timezone.now()
        for code, data_at in IntegrationSource.objects.values_list("code", "data_at"):
            if data_at:
                age.add_metric([code], (now - data_at).total_seconds())
        yield age


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # this process's own metrics
            registry.register(collector)
    registry.register(OfficeCollector())
    return registry


@never_cache
@require_GET
@access.monitors_only
def metrics(request):
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
