"""The core's services — the one writer (Rule 5) of records AND configuration.

Every change — a click, bulk, import, API call, sync, cascade, and every change of a category,
step, batch, grant, change request, roster assignment, survey question or master-data row —
goes through here: role and scope checked, one transaction, audit through one helper (`log`),
cache versions moved, announcements made through clearance.hooks.

Callers use this package's names (`services.apply_many`, `services.create_step` …). Behind it:
base (the vocabulary), records (changing records; dry runs), enrolment (making forms), commit
(the writer's machinery), daily (the daily tallies recounted and rebuilt), audit, versions
(cache versions), undo, one module per kind of configuration: categories, steps, batches,
grants, change_requests, roster, survey, masterdata; and a batch's life after its window:
lifecycle (end, archive, the archive export) and purge (retention of personal data and of
audit events).
"""

from lixiao.clearance.rules import Refused
from lixiao.clearance.services.audit import log
from lixiao.clearance.services.base import (
    EVENT_COLUMNS,
    Actor,
    Archived,
    Closed,
    Forbidden,
    Item,
    NotFound,
    Outcome,
    require_office,
)
from lixiao.clearance.services.batches import create_batch, update_batch
from lixiao.clearance.services.categories import (
    create_category,
    delete_category,
    join_names,
    set_survey_enabled,
    update_category,
)
from lixiao.clearance.services.change_requests import (
    decide_change_request,
    open_categories,
    submit_change_request,
)
from lixiao.clearance.services.change_requests import (
    removal_blocker as change_request_blocker,
)
from lixiao.clearance.services.commit import require_writable
from lixiao.clearance.services.daily import rebuild_daily_tallies
from lixiao.clearance.services.enrolment import (
    Enrolment,
    add_step_records,
    enrol,
    refresh_completion,
)
from lixiao.clearance.services.grants import (
    copy_default_grants,
    create_grant,
    delegate,
    delegated_by,
    delete_grant,
    describe,
    find_person,
    is_duplicate,
    revoke_delegation,
    scope_errors,
)
from lixiao.clearance.services.lifecycle import (
    archive_batch,
    close_batch,
    due_at,
    rebuild_archive,
)
from lixiao.clearance.services.masterdata import (
    import_places,
    import_staff,
    save_place,
    save_staff,
)
from lixiao.clearance.services.purge import purge_audit, purge_personal_data
from lixiao.clearance.services.records import (
    apply_many,
    pass_record,
    reapply_conditions,
    revoke_record,
    set_state,
)
from lixiao.clearance.services.roster import assign_counselors, student_attributes_changed
from lixiao.clearance.services.steps import (
    StepSaved,
    create_step,
    delete_step,
    move_step,
    update_step,
)
from lixiao.clearance.services.steps import removal_blocker as step_blocker
from lixiao.clearance.services.survey import delete_question, save_question, submit_survey
from lixiao.clearance.services.undo import UNDOABLE_ACTIONS, UndoRefused, undo_group
from lixiao.clearance.services.versions import categories_changed, forms_changed, students_changed

__all__ = [
    "EVENT_COLUMNS",
    "UNDOABLE_ACTIONS",
    "Actor",
    "Archived",
    "Closed",
    "Enrolment",
    "Forbidden",
    "Item",
    "NotFound",
    "Outcome",
    "Refused",
    "StepSaved",
    "UndoRefused",
    "add_step_records",
    "apply_many",
    "archive_batch",
    "assign_counselors",
    "categories_changed",
    "change_request_blocker",
    "close_batch",
    "copy_default_grants",
    "create_batch",
    "create_category",
    "create_grant",
    "create_step",
    "decide_change_request",
    "delegate",
    "delegated_by",
    "delete_category",
    "delete_grant",
    "delete_question",
    "delete_step",
    "describe",
    "due_at",
    "enrol",
    "find_person",
    "forms_changed",
    "import_places",
    "import_staff",
    "is_duplicate",
    "join_names",
    "log",
    "move_step",
    "open_categories",
    "pass_record",
    "purge_audit",
    "purge_personal_data",
    "reapply_conditions",
    "rebuild_daily_tallies",
    "rebuild_archive",
    "refresh_completion",
    "require_office",
    "require_writable",
    "revoke_delegation",
    "revoke_record",
    "save_place",
    "save_question",
    "save_staff",
    "scope_errors",
    "set_state",
    "set_survey_enabled",
    "step_blocker",
    "student_attributes_changed",
    "students_changed",
    "submit_change_request",
    "submit_survey",
    "undo_group",
    "update_batch",
    "update_category",
    "update_step",
]
