"""The one audit helper (Rule 7): every event is written here, inside the caller's transaction.

Services, commands, tasks and logins call `log` with a dotted code (`console.step.updated`,
`roster.imported`, `accounts.login`); the writer's per-record changes go in bulk through
`write_changes`. Nothing else builds an Event.

Events are append-only in the database (migrations 0003, 0010); `deletion_permitted` is the one
deliberate way to delete old ones (clearance.services.purge, itself audited).
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from django.db import DatabaseError, connection
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


# ---------------------------------------------------------------------------------------------
# the purge permit: how the append-only triggers let the retention purge delete old events

_SQLITE_FLAG = "lixiao_audit_purge_permitted"


def register_purge_permit(sender=None, connection=None, **kwargs) -> None:
    """On each new SQLite connection, the function the delete trigger asks (connection_created).

    It answers from a flag on this connection only, so no other connection — and no other
    client of the database file, which lacks the function — can delete an event.
    """
    if connection is None or connection.vendor != "sqlite":
        return
    wrapper = connection
    connection.connection.create_function(
        "lixiao_audit_purge", 0, lambda: 1 if getattr(wrapper, _SQLITE_FLAG, False) else 0
    )


@contextmanager
def deletion_permitted():
    """Let the statements inside this block delete audit events, in the caller's transaction.

    PostgreSQL: a transaction-local setting; SQLite: a flag on this connection. Both are
    withdrawn when the block ends, so the permit covers the purge's DELETE and nothing after.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit events are deleted only inside a transaction")
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lixiao.audit_purge', 'on', true)")
    else:
        setattr(connection, _SQLITE_FLAG, True)
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lixiao.audit_purge', 'off', true)")
            except DatabaseError:
                pass  # the transaction failed inside the block: its rollback ends the setting too
        else:
            setattr(connection, _SQLITE_FLAG, False)
