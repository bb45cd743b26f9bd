"""Probe and metrics URLs, at the site's root where monitors expect them."""

from django.urls import path

from lixiao.monitoring import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
]
