from django.apps import AppConfig


class ClearanceConfig(AppConfig):
    name = "lixiao.clearance"
    verbose_name = "离校办理"
