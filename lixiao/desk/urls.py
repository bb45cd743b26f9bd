from django.urls import path

from lixiao.desk import (
    appointments,
    bulk,
    change_requests,
    counter,
    delegation,
    imports,
    objections,
    views,
)

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("delegate/", delegation.delegate, name="delegate"),
    path("delegate/<int:pk>/revoke/", delegation.delegate_revoke, name="delegate_revoke"),
    path("change-requests/", change_requests.change_requests, name="change_requests"),
    path("code/<str:token>/", counter.scan, name="code"),
    path("b/<int:batch_id>/", views.batch, name="batch"),
    path("b/<int:batch_id>/export.xlsx", views.export, name="export"),
    path("b/<int:batch_id>/stats/", views.stats, name="stats"),
    path("b/<int:batch_id>/recent/", views.recent, name="recent"),
    path("b/<int:batch_id>/bulk/", bulk.bulk, name="bulk"),
    path("b/<int:batch_id>/f/<int:form_id>/", views.detail, name="form"),
    path("b/<int:batch_id>/r/<int:record_id>/<str:action>/", views.act, name="act"),
    path("b/<int:batch_id>/import/", imports.upload, name="import"),
    path("b/<int:batch_id>/import/template.xlsx", imports.import_template, name="import_template"),
    path("b/<int:batch_id>/import/<int:job_id>/", imports.preview, name="import_preview"),
    path("b/<int:batch_id>/import/<int:job_id>/confirm/", imports.confirm, name="import_confirm"),
    path("b/<int:batch_id>/objections/", objections.objection_list, name="objections"),
    path("b/<int:batch_id>/appointments/", appointments.today, name="appointments"),
    path(
        "b/<int:batch_id>/appointments/settings/<int:step_id>/",
        appointments.plan_settings,
        name="appointment_settings",
    ),
    path(
        "b/<int:batch_id>/appointments/<int:booking_id>/<str:action>/",
        appointments.act,
        name="appointment_act",
    ),
    path(
        "b/<int:batch_id>/objections/<int:pk>/<str:action>/",
        objections.objection_act,
        name="objection_act",
    ),
]
