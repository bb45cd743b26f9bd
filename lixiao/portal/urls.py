import os

from django.urls import path

from lixiao.portal import account, appointments, certificate, counter, objections, survey, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("survey/<int:form_id>/", survey.survey, name="survey"),
    path("steps/<int:record_id>/message/", objections.message, name="message"),
    path("messages/<int:objection_id>/attachment/", objections.attachment, name="attachment"),
    path("certificate/<int:batch_id>/", certificate.certificate, name="certificate"),
    path("code/<int:form_id>/", counter.code, name="counter_code"),
    path("account/", account.account, name="account"),
    path("account/data.<str:fmt>", account.download, name="own_data"),
    path("appointments/<int:record_id>/", appointments.booking, name="booking"),
    path("appointments/cancel/<int:booking_id>/", appointments.cancel, name="booking_cancel"),
]
if os.environ.get("LIXIAO_BENCH") == "1":
    # bench/http_load.py's baseline page: never routed in a normal deployment.
    urlpatterns.append(path("bench-baseline/", views.bench_baseline, name="bench_baseline"))
