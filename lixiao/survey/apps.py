from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "lixiao.survey"
    verbose_name = "调查问卷"
