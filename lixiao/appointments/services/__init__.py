"""The appointments' writer: settings, booking, change, cancel, check-in, no-show, and closing a
booking when its step is no longer pending.

Each call checks the role and scope through the gate (`clearance.scope`), runs in one
transaction, audits through the core's helper (`appointments.*` codes) and moves the versions
the student's cached page reads: a booking moves its form, a plan its category.

Locks, always in this order: the form (as the record writer does, so a pass and a booking of the
same step cannot interleave), then the slot, then the booking. A booking counts its slot's taken
places only while holding the slot's lock, so a slot never holds more than its capacity. On
SQLite every write transaction is IMMEDIATE, which serialises them anyway.

Modules: base (times, the lock order), plans (settings), booking (the student's), desk
(check-in, no-show), closing (the core's StepsChanged, subscribed at start-up).
"""

from lixiao.appointments.services.base import PORTAL, Forbidden, NotFound, local, slot_at
from lixiao.appointments.services.booking import book, bookable_end, cancel
from lixiao.appointments.services.closing import closing_on_pass, connect, steps_changed
from lixiao.appointments.services.desk import arrive_by_code, check_in, mark_no_show
from lixiao.appointments.services.plans import PlanData, may_configure, save_plan

__all__ = [
    "PORTAL",
    "Forbidden",
    "NotFound",
    "PlanData",
    "arrive_by_code",
    "book",
    "bookable_end",
    "cancel",
    "check_in",
    "closing_on_pass",
    "connect",
    "local",
    "mark_no_show",
    "may_configure",
    "save_plan",
    "slot_at",
    "steps_changed",
]
