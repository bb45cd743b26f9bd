from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "lixiao.desk"
    verbose_name = "现场办理"

    def ready(self):
        from lixiao.desk import importers  # noqa: F401 — registers the "desk.records" import
