from django.apps import AppConfig


class TabularConfig(AppConfig):
    name = "lixiao.tabular"
    verbose_name = "表格导入导出"
