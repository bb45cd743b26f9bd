from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "lixiao.objections"
    verbose_name = _("异议与已办理申报")

    def ready(self):
        from lixiao.clearance import hooks
        from lixiao.objections import retention

        hooks.subscribe(hooks.PersonalDataPurged, retention.personal_data_purged)
