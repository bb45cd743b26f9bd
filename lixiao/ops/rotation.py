"""Key rotation: re-seal every ID number and TOTP secret under the current key, in batches.

Each batch is one transaction that locks its rows, opens each value with the key that sealed it,
seals it again under the current key (ID numbers are re-hashed under it too) and writes it back.
Only values not yet under the current key are selected, so a run that stops half-way (killed,
power lost) leaves every value readable — each is under its old key or the new one — and the
next run carries on where it stopped.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from lixiao import keyring
from lixiao.accounts import totp
from lixiao.accounts.models import TOTPDevice
from lixiao.directory import idnumbers
from lixiao.directory.models import Staff, Student


@dataclass(frozen=True)
class Target:
    label: str  # what an operator reads in the report
    model: type[models.Model]
    column: str  # the sealed value
    reseal: Callable[[models.Model], dict]  # the row's new column values


def _id_number(row) -> dict:
    enc, digest = idnumbers.reseal(row.id_number_enc)
    return {"id_number_enc": enc, "id_number_hash": digest}


def _totp(row) -> dict:
    return {"secret_enc": totp.reseal(row.secret_enc, row.user_id)}


TARGETS = (
    Target("学生身份证件号 student ID numbers", Student, "id_number_enc", _id_number),
    Target("教职工身份证件号 staff ID numbers", Staff, "id_number_enc", _id_number),
    Target("双因素认证密钥 TOTP secrets", TOTPDevice, "secret_enc", _totp),
)


@dataclass
class Progress:
    label: str
    resealed: int = 0
    failed: list[int] = field(default_factory=list)  # row ids no configured key opens


def _stale(target: Target):
    """Rows whose value is not (yet) under the current key."""
    prefix = keyring.current().id + keyring.SEPARATOR
    return (
        target.model.objects.exclude(**{target.column: ""})
        .exclude(**{f"{target.column}__startswith": prefix})
        .order_by("pk")
    )


def census() -> dict[str, Counter]:
    """Per target, how many values each key id sealed ('—' for values from before key ids)."""
    result = {}
    for target in TARGETS:
        counts = Counter()
        rows = target.model.objects.exclude(**{target.column: ""})
        for token in rows.values_list(target.column, flat=True).iterator(chunk_size=5000):
            counts[keyring.key_id_of(token) or "—"] += 1
        result[target.label] = counts
    return result


def rotate(
    batch_size: int = 1000, after_batch: Callable[[Progress], None] | None = None
) -> list[Progress]:
    """Re-seal every stale value, one committed transaction per batch of rows.

    `after_batch` is called after each committed batch (the command prints progress with it).
    """
    report = []
    for target in TARGETS:
        progress = Progress(target.label)
        report.append(progress)
        last = 0
        fields = None
        while True:
            with transaction.atomic():
                # Locked until the batch commits: a roster import cannot change an ID number
                # between our read and our write (SQLite's write transaction locks it all).
                rows = list(_stale(target).filter(pk__gt=last).select_for_update()[:batch_size])
                if not rows:
                    break
                changed = []
                for row in rows:
                    try:
                        values = target.reseal(row)
                    except keyring.UnknownKey:
                        progress.failed.append(row.pk)
                        continue
                    for name, value in values.items():
                        setattr(row, name, value)
                    fields = list(values)
                    changed.append(row)
                if changed:
                    target.model.objects.bulk_update(changed, fields)
                progress.resealed += len(changed)
                last = rows[-1].pk
            if after_batch is not None:
                after_batch(progress)
    return report
