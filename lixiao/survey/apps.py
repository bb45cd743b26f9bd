from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "lixiao.survey"
    verbose_name = _("调查问卷")
