from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "lixiao.directory"
    verbose_name = "人员与机构"
