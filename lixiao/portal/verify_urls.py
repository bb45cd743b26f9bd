from django.urls import path

from lixiao.portal import certificate

app_name = "verify"
urlpatterns = [path("<str:token>/", certificate.verify, name="verify")]
