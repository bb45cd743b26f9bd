from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lixiao.api"
    verbose_name = "接口"
