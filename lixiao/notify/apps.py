from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "lixiao.notify"
    verbose_name = "通知"

    def ready(self):
        from lixiao.notify import services

        services.connect()  # the core announces; notify delivers (clearance never imports notify)
