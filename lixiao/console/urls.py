from django.urls import path

from lixiao.console import views

app_name = "console"
urlpatterns = [path("", views.home, name="home")]
