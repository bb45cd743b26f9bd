from django.urls import path

from lixiao.console import views
from lixiao.console.views import (
    batches,
    categories,
    change_requests,
    grants,
    lifecycle,
    steps,
    survey,
)

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    # categories and their steps (the category page lists the steps)
    path("categories/", categories.category_list, name="category_list"),
    path("categories/new/", categories.category_create, name="category_create"),
    path("categories/<int:pk>/", steps.category_page, name="category"),
    path("categories/<int:pk>/edit/", categories.category_edit, name="category_edit"),
    path("categories/<int:pk>/delete/", categories.category_delete, name="category_delete"),
    path(
        "categories/<int:pk>/setup/done/",
        categories.category_setup_done,
        name="category_setup_done",
    ),
    path("categories/<int:category_id>/steps/new/", steps.step_create, name="step_create"),
    path("categories/<int:category_id>/steps/<int:pk>/edit/", steps.step_edit, name="step_edit"),
    path(
        "categories/<int:category_id>/steps/<int:pk>/delete/", steps.step_delete, name="step_delete"
    ),
    path(
        "categories/<int:category_id>/steps/<int:pk>/move/<str:direction>/",
        steps.step_move,
        name="step_move",
    ),
    # grants: a category's defaults, a batch's own
    path("categories/<int:category_id>/grants/", grants.category_grants, name="category_grants"),
    path("batches/<int:pk>/grants/", grants.batch_grants, name="batch_grants"),
    path("batches/<int:pk>/grants/copy/", grants.batch_grants_copy, name="batch_grants_copy"),
    path("grants/<int:pk>/delete/", grants.grant_delete, name="grant_delete"),
    # service settings and the survey
    path("categories/<int:category_id>/service/", survey.service, name="service"),
    path(
        "categories/<int:category_id>/questions/new/",
        survey.question_create,
        name="question_create",
    ),
    path(
        "categories/<int:category_id>/questions/<int:pk>/edit/",
        survey.question_edit,
        name="question_edit",
    ),
    path(
        "categories/<int:category_id>/questions/<int:pk>/delete/",
        survey.question_delete,
        name="question_delete",
    ),
    path(
        "categories/<int:category_id>/survey/results/", survey.survey_results, name="survey_results"
    ),
    path(
        "categories/<int:category_id>/survey/results.xlsx",
        survey.survey_export,
        name="survey_export",
    ),
    # batches
    path("batches/", batches.batch_list, name="batch_list"),
    path("batches/new/", batches.batch_create, name="batch_create"),
    path("batches/<int:pk>/", batches.batch_page, name="batch"),
    path("batches/<int:pk>/edit/", batches.batch_edit, name="batch_edit"),
    path("batches/<int:pk>/setup/done/", batches.batch_setup_done, name="batch_setup_done"),
    # a batch's lifecycle: end now, archive (with its archive file), what the purge will remove
    path("batches/<int:pk>/lifecycle/", lifecycle.lifecycle, name="lifecycle"),
    path("batches/<int:pk>/lifecycle/close/", lifecycle.close, name="lifecycle_close"),
    path("batches/<int:pk>/lifecycle/archive/", lifecycle.archive, name="lifecycle_archive"),
    path("batches/<int:pk>/lifecycle/rebuild/", lifecycle.rebuild, name="lifecycle_rebuild"),
    path("batches/<int:pk>/archive/progress/", lifecycle.archive_progress, name="archive_progress"),
    path("batches/<int:pk>/archive/download/", lifecycle.archive_download, name="archive_download"),
    # change requests
    path("change-requests/", change_requests.change_request_list, name="change_requests"),
    path("change-requests/<int:pk>/", change_requests.change_request_detail, name="change_request"),
]

# --- part B --- (roster import, master data, supervision, audit: appended by the other helper)
from lixiao.console.views import (  # noqa: E402
    appointments,
    audit,
    masterdata,
    roster,
    supervision,
)

urlpatterns += [
    # roster import (名单管理) of one batch
    path("batches/<int:batch_id>/roster/", roster.roster, name="roster"),
    path("roster/template.xlsx", roster.roster_template, name="roster_template"),
    path(
        "batches/<int:batch_id>/roster/<int:job_id>/", roster.roster_preview, name="roster_preview"
    ),
    path(
        "batches/<int:batch_id>/roster/<int:job_id>/confirm/",
        roster.roster_confirm,
        name="roster_confirm",
    ),
    # master data: colleges, departments, staff
    path("masterdata/", masterdata.masterdata, name="masterdata"),
    path("masterdata/<str:kind>/", masterdata.masterdata, name="masterdata_kind"),
    path("masterdata/<str:kind>/new/", masterdata.masterdata_edit, name="masterdata_new"),
    path(
        "masterdata/<str:kind>/<int:pk>/edit/", masterdata.masterdata_edit, name="masterdata_edit"
    ),
    path(
        "masterdata/<str:kind>/template.xlsx",
        masterdata.masterdata_template,
        name="masterdata_template",
    ),
    path("masterdata/<str:kind>/import/", masterdata.masterdata_import, name="masterdata_import"),
    path(
        "masterdata/<str:kind>/import/<int:job_id>/",
        masterdata.masterdata_preview,
        name="masterdata_preview",
    ),
    path(
        "masterdata/<str:kind>/import/<int:job_id>/confirm/",
        masterdata.masterdata_confirm,
        name="masterdata_confirm",
    ),
    # supervision (跟进及督办) of one batch
    path("batches/<int:batch_id>/supervision/", supervision.supervision, name="supervision"),
    path(
        "batches/<int:batch_id>/supervision/export.xlsx",
        supervision.supervision_export,
        name="supervision_export",
    ),
    path(
        "batches/<int:batch_id>/supervision/remind/",
        supervision.supervision_remind,
        name="supervision_remind",
    ),
    # appointments (预约办理) of one batch: settings per step, the use of each slot
    path("batches/<int:pk>/appointments/", appointments.appointment_list, name="appointments"),
    path(
        "batches/<int:pk>/appointments/<int:step_id>/",
        appointments.appointment_edit,
        name="appointment_edit",
    ),
    path(
        "batches/<int:pk>/appointments/<int:step_id>/use/",
        appointments.appointment_use,
        name="appointment_use",
    ),
    # audit log
    path("audit/", audit.audit, name="audit"),
    path("audit/export.xlsx", audit.audit_export, name="audit_export"),
    path("audit/undo/", audit.audit_undo, name="audit_undo"),
]
