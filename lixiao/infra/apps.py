"""The infra app (files in the database, worker heartbeats, schedule slots)."""

from django.apps import AppConfig


class InfraConfig(AppConfig):
    name = "lixiao.infra"
    label = "infra"
    verbose_name = "基础设施"
