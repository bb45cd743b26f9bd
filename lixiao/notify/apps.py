from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "lixiao.notify"
    verbose_name = "通知"
