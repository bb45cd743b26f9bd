from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "lixiao.objections"
    verbose_name = _("异议与已办理申报")
