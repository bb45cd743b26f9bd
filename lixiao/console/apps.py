from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "lixiao.console"
    verbose_name = "管理员"
