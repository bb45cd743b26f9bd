from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClearanceConfig(AppConfig):
    name = "lixiao.clearance"
    verbose_name = _("离校办理")
