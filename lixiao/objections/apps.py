from django.apps import AppConfig


class ObjectionsConfig(AppConfig):
    name = "lixiao.objections"
    verbose_name = "异议与已办理申报"
