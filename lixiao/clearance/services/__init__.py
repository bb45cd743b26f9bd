"""The one writer (Rule 5): every change of a record — click, bulk, import, API, sync,
cascade — goes through here: scope, window and rules checked, records, audit events,
completion and tallies written in one transaction.

Callers use this package's names (`services.apply_many`, `services.Actor` …); the modules
behind it are: base (the vocabulary), records (changing records), enrolment (making forms),
commit (the shared machinery), audit (events besides record changes) and undo.
"""

from lixiao.clearance.rules import Refused
from lixiao.clearance.services.audit import log
from lixiao.clearance.services.base import (
    EVENT_COLUMNS,
    SYSTEM_SOURCES,
    Actor,
    Closed,
    Item,
    NotFound,
    Outcome,
)
from lixiao.clearance.services.commit import mark_forms_changed
from lixiao.clearance.services.enrolment import (
    Enrolment,
    add_step_records,
    enrol,
    refresh_completion,
)
from lixiao.clearance.services.records import (
    apply_many,
    pass_record,
    reapply_conditions,
    revoke_record,
    set_state,
)
from lixiao.clearance.services.undo import UNDOABLE_ACTIONS, UndoRefused, undo_group

__all__ = [
    "EVENT_COLUMNS",
    "SYSTEM_SOURCES",
    "UNDOABLE_ACTIONS",
    "Actor",
    "Closed",
    "Enrolment",
    "Item",
    "NotFound",
    "Outcome",
    "Refused",
    "UndoRefused",
    "add_step_records",
    "apply_many",
    "enrol",
    "log",
    "mark_forms_changed",
    "pass_record",
    "reapply_conditions",
    "refresh_completion",
    "revoke_record",
    "set_state",
    "undo_group",
]
