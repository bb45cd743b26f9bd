from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "lixiao.directory"
    verbose_name = "人员与机构"

    def ready(self):
        from lixiao.directory import choices  # noqa: F401 - connects its signal receivers
