from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "lixiao.directory"
    verbose_name = _("人员与机构")

    def ready(self):
        from lixiao.directory import choices  # noqa: F401 - connects its signal receivers
