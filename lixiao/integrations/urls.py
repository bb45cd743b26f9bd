from django.urls import path

from lixiao.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.source_list, name="list"),
    path("recheck/<int:record_id>/", views.recheck, name="recheck"),
    path("<slug:code>/", views.source_detail, name="detail"),
    path("<slug:code>/sync/", views.source_sync, name="sync"),
    path("<slug:code>/token/", views.source_token, name="token"),
    path("<slug:code>/pull/", views.source_pull, name="pull"),
    path("<slug:code>/template.xlsx", views.source_template, name="template"),
    path("<slug:code>/upload/", views.source_upload, name="upload"),
    path("<slug:code>/upload/<int:job_id>/", views.upload_job, name="upload_job"),
]
