from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "lixiao.portal"
    verbose_name = "学生端"

    def ready(self):
        from lixiao.portal import invalidation

        invalidation.connect()
