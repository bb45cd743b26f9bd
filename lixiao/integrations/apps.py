from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "lixiao.integrations"
    verbose_name = _("集成表与数据同步")

    def ready(self):
        from lixiao.clearance import hooks
        from lixiao.integrations import (
            importers,  # noqa: F401 — registers the source upload importer
            retention,
        )

        hooks.subscribe(hooks.PersonalDataPurged, retention.personal_data_purged)
