from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "lixiao.notify"
    verbose_name = "通知"

    def ready(self):
        from lixiao.clearance import hooks
        from lixiao.notify import retention, services

        services.connect()  # the core announces; notify delivers (clearance never imports notify)
        hooks.subscribe(hooks.PersonalDataPurged, retention.personal_data_purged)
