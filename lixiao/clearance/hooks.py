"""What the core announces, and to whom: channels subscribe, the core never imports them.

The writer and the configuration services call `announce` inside their transaction; each
subscriber (lixiao.notify connects its own at start-up) writes what it keeps in the same
transaction — so a rolled-back change leaves no notification behind — and defers anything
that leaves the process (email, webhook) to after the commit itself.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

_subscribers: dict[type, list[Callable]] = defaultdict(list)


@dataclass(frozen=True)
class Notice:
    """A message for some people (in-app, and by mail when that is on)."""

    user_ids: Sequence[int]
    title: str
    body: str = ""
    link: str = ""


@dataclass(frozen=True)
class StepsChanged:
    """Records changed on forms of one batch: the writer's list of (form id, Change, Item)."""

    batch: object
    step_infos: Sequence
    changes: Sequence = field(default_factory=list)
    at: datetime | None = None


def subscribe(kind: type, receiver: Callable) -> None:
    """Call `receiver(announcement)` for every announcement of this kind (once per receiver)."""
    if receiver not in _subscribers[kind]:
        _subscribers[kind].append(receiver)


def announce(announcement) -> None:
    for receiver in _subscribers[type(announcement)]:
        receiver(announcement)


@dataclass(frozen=True)
class PersonalDataPurged:
    """Students whose personal data the retention purge removes — or, with dry_run, would.

    Announced inside the purge's transaction (clearance.services.purge), before the students
    themselves change. Each app that keeps something of these people (attachments, notifications,
    source rows, login records) removes it then — or only counts it on a dry run — and adds what
    it removed to `removed` ({"attachments": n, …}) for the purge's audit event and preview.
    `students` (directory.Student) and `forms` (all their forms) are querysets: use them as
    subqueries (`students.values("student_number")`), never as long lists of ids.
    """

    students: object
    forms: object
    dry_run: bool = False
    removed: dict = field(default_factory=dict)

    def count(self, what: str, n: int) -> None:
        self.removed[what] = self.removed.get(what, 0) + n
