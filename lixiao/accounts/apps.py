from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lixiao.accounts"
    verbose_name = "登录与账号"

    def ready(self):
        from lixiao.accounts import signals  # noqa: F401  (login audit)
