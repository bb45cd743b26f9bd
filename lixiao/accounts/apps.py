from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "lixiao.accounts"
    verbose_name = _("登录与账号")

    def ready(self):
        from lixiao.accounts import signals  # noqa: F401  (login audit)
