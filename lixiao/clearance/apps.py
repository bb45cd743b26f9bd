from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClearanceConfig(AppConfig):
    name = "lixiao.clearance"
    verbose_name = _("离校办理")

    def ready(self):
        from django.db.backends.signals import connection_created

        from lixiao.clearance.services import audit

        # SQLite's audit delete trigger asks this connection for the purge permit (0010).
        connection_created.connect(audit.register_purge_permit, dispatch_uid="lixiao_audit_purge")
