"""Audit events the writer adds besides per-record changes: configuration, bulk summaries, refusals."""

from lixiao.clearance.models import (
    Batch,
    Event,
)
from lixiao.clearance.services.base import Actor


def log(
    actor: Actor,
    action: str,
    *,
    batch: Batch | None = None,
    note: str = "",
    data: dict | None = None,
) -> Event:
    """One audit event for a configuration change (dotted code, e.g. console.step.updated).

    Steps are named in `data`, never by the step column: a step without records may be deleted
    later, and an append-only event must not hold a foreign key that would then dangle.
    """
    return Event.objects.create(
        actor_id=actor.user_id,
        action=action,
        batch=batch,
        source=actor.source,
        client_ip=actor.client_ip,
        note=note[:255],
        data=data or {},
    )


def _summary_event(actor, batch, step, outcome, now) -> None:
    Event.objects.create(
        at=now,
        actor_id=actor.user_id,
        action="clearance.bulk.applied",
        batch=batch,
        step=step,
        source=actor.source,
        client_ip=actor.client_ip,
        group=outcome.group,
        data={
            "changed": len(outcome.changed),
            "unchanged": len(outcome.unchanged),
            "refused": [[fid, code] for fid, code, _msg in outcome.refused[:500]],
            "refused_count": len(outcome.refused),
        },
    )


def _refusal_event(actor, batch, step, outcome, now) -> None:
    form_id, code, message = outcome.refused[0]
    Event.objects.create(
        at=now,
        actor_id=actor.user_id,
        action="clearance.record.refused",
        batch=batch,
        step=step,
        form_id=form_id if code != "scope" else None,
        source=actor.source,
        client_ip=actor.client_ip,
        note=message[:255],
        group=outcome.group,
        data={"code": code, "form_id": form_id},
    )
