"""The one audit helper (Rule 7): every event is written here, inside the caller's transaction.

Services, commands, tasks and logins call `log` with a dotted code (`console.step.updated`,
`roster.imported`, `accounts.login`); the writer's per-record changes go in bulk through
`write_changes`. Nothing else builds an Event.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance.models import Batch, Event
from lixiao.clearance.services.base import EVENT_COLUMNS, Actor


def log(
    actor: Actor,
    action: str,
    *,
    batch: Batch | int | None = None,
    step=None,
    form_id: int | None = None,
    note: str = "",
    data: dict | None = None,
    group=None,
    at: datetime | None = None,
) -> Event:
    """One audit event (dotted code), by whom and from where the actor says.

    Name a step by its column only when it has records (they protect it from deletion);
    otherwise name it in `data`: an append-only event must not hold a foreign key that a
    later deletion would leave dangling.
    """
    return Event.objects.create(
        at=at or timezone.now(),
        actor_id=actor.user_id,
        action=action,
        batch_id=getattr(batch, "pk", batch),
        step=step,
        form_id=form_id,
        source=actor.source,
        client_ip=actor.client_ip,
        note=note[:255],
        group=group,
        data=data or {},
    )


def write_changes(rows: Iterable[Sequence]) -> None:
    """The writer's record changes, one event each, as tuples in EVENT_COLUMNS order (bulk)."""
    sqlbulk.insert(Event._meta.db_table, EVENT_COLUMNS, rows)


def _plain(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(obj, fields: Iterable[str]) -> dict:
    """The values of these fields (foreign keys by id) as an event keeps them."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = _plain(getattr(obj, field.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} of the fields whose value changed, as text."""
    return {
        name: [str(before.get(name, "")), str(value)]
        for name, value in after.items()
        if before.get(name) != value
    }


def summary(actor: Actor, batch, step, outcome, now) -> None:
    """A bulk call's counts: one event beside the per-record ones."""
    log(
        actor,
        "clearance.bulk.applied",
        batch=batch,
        step=step,
        group=outcome.group,
        at=now,
        data={
            "changed": len(outcome.changed),
            "unchanged": len(outcome.unchanged),
            "refused": [[fid, code] for fid, code, _msg in outcome.refused[:500]],
            "refused_count": len(outcome.refused),
        },
    )


def refusal(actor: Actor, batch, step, outcome, now) -> None:
    """A single refused change (a click, an API call): who tried what, and why not."""
    form_id, code, message = outcome.refused[0]
    log(
        actor,
        "clearance.record.refused",
        batch=batch,
        step=step,
        form_id=form_id if code != "scope" else None,
        note=message,
        group=outcome.group,
        at=now,
        data={"code": code, "form_id": form_id},
    )
