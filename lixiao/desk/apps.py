from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "lixiao.desk"
    verbose_name = "现场办理"
