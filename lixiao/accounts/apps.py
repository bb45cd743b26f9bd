from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "lixiao.accounts"
    verbose_name = _("登录与账号")

    def ready(self):
        from lixiao.accounts import retention, signals  # noqa: F401  (login audit)
        from lixiao.clearance import hooks

        hooks.subscribe(hooks.PersonalDataPurged, retention.personal_data_purged)
