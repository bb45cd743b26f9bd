from django.shortcuts import redirect
from django.urls import include, path

from lixiao.api.api import api

urlpatterns = [
    path("", lambda request: redirect("accounts:home")),
    path("accounts/", include("lixiao.accounts.urls")),
    path("me/", include("lixiao.portal.urls")),
    path("verify/", include("lixiao.portal.verify_urls")),
    path("desk/", include("lixiao.desk.urls")),
    path("console/", include("lixiao.console.urls")),
    path("api/v1/", api.urls),
    path("integrations/", include("lixiao.integrations.urls")),
    path("inbox/", include("lixiao.notify.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("lixiao.monitoring.urls")),
]
