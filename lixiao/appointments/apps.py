from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "lixiao.appointments"
    verbose_name = _("预约办理")

    def ready(self):
        from lixiao.appointments import services

        # The core announces record changes; a passed step closes its booking (the core never
        # imports this app).
        services.connect()
