"""The monitoring app: counts failed logins for the metrics once Django is ready."""

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "lixiao.monitoring"
    label = "monitoring"
    verbose_name = "监控"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from lixiao.monitoring import metrics

        user_login_failed.connect(
            metrics.count_login_failure, dispatch_uid="monitoring-login-failed"
        )
