"""What the writer is told and tells: who acts, what is wanted, what happened, and refusals."""

import uuid
from dataclasses import dataclass, field

from lixiao.clearance.rules import Refused

EVENT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "batch_id",
    "form_id",
    "record_id",
    "step_id",
    "from_state",
    "to_state",
    "source",
    "note",
    "client_ip",
    "group",
    "data",
)


# A student whose personal data the retention purge removed (clearance.services.purge): their
# 学号 and account name become PURGED_PREFIX + the row's id — unique, never a real 学号 or 职工号.
PURGED_NAME = "（已清除）"
PURGED_PREFIX = "已清除-"


class NotFound(Exception):
    """Outside the person's scope: shown as 404, so nothing is learnt about the object."""


class Closed(Refused):
    """The batch is outside its service window: handlers cannot change records."""


class Archived(Closed):
    """The batch is archived: its forms are read-only for everyone, the office included."""


class Forbidden(Exception):
    """The person's role does not allow this change: shown as 403 (the surface is known)."""


@dataclass(frozen=True)
class Actor:
    """Who changes something, from where. `trusted` callers (sync, survey, roster) decided scope."""

    user: object | None
    source: str
    client_ip: str | None = None
    trusted: bool = False

    @classmethod
    def system(cls, source: str, user=None) -> "Actor":
        return cls(user=user, source=source, trusted=True)

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None


@dataclass(frozen=True)
class Item:
    """One wanted change on one form for the step being handled."""

    form_id: int
    to_state: str
    note: str = ""
    reason: str | None = None  # an integration source's words for an automatic step


@dataclass
class Outcome:
    group: uuid.UUID
    changed: list[int] = field(default_factory=list)  # form ids
    unchanged: list[int] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (form id, code, message)
    reopened: list[int] = field(default_factory=list)  # forms whose final step returned to pending
    record: object = None  # set_state: the record as the call left it (read in its transaction)


def require_office(actor: Actor) -> None:
    """Configuration is the office's: anyone else is refused, whatever surface they came by."""
    user = actor.user
    if actor.trusted:
        return
    if not (user is not None and user.is_authenticated and user.is_active and user.is_office):
        raise Forbidden
