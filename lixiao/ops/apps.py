from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "lixiao.ops"
    verbose_name = "运维"
