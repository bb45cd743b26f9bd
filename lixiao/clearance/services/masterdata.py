"""Master data (基础数据): colleges, departments and staff — one at a time or from an import.

Their names and contacts show on every student's page (a step names its department or the
student's college, a step's history names its handler), so every change here moves every
category's page version; the desk's college list is dropped when colleges change.
"""

from django.db import transaction

from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.versions import categories_changed
from lixiao.directory.choices import forget_colleges
from lixiao.directory.models import College, Staff, User
from lixiao.directory.services import StaffEntry, create_staff


def _changed(actor: Actor, slug: str, obj, created: bool, changes: dict) -> None:
    categories_changed()
    if isinstance(obj, College):
        forget_colleges()
    audit.log(
        actor,
        f"console.{slug}.{'created' if created else 'updated'}",
        note=f"{obj}",
        data={"id": obj.pk, "changed": sorted(changes)},
    )


def save_place(actor: Actor, slug: str, obj, fields: dict):
    """Create (obj unsaved) or change a college or a department."""
    require_office(actor)
    names = [f for f in fields if f in {f.name for f in obj._meta.concrete_fields}]
    with transaction.atomic():
        created = obj.pk is None
        # From the database: a bound ModelForm has already copied its values onto `obj`.
        before = {} if created else audit.snapshot(type(obj).objects.get(pk=obj.pk), names)
        for name in names:
            setattr(obj, name, fields[name])
        changes = audit.diff(before, audit.snapshot(obj, names))
        obj.save()
        _changed(actor, slug, obj, created, changes)
    return obj


STAFF_FIELDS = ("staff_number", "name", "college", "department", "phone")


def save_staff(actor: Actor, staff: Staff, fields: dict, id_number: str = "") -> Staff:
    """Create (staff unsaved) or change a staff member and their account's name.

    Without an ID number a new account has no usable password until the office resets it.
    """
    require_office(actor)
    with transaction.atomic():
        created = staff.pk is None
        before = {} if created else audit.snapshot(Staff.objects.get(pk=staff.pk), STAFF_FIELDS)
        for name in STAFF_FIELDS:
            if name in fields:
                setattr(staff, name, fields[name])
        changes = audit.diff(before, audit.snapshot(staff, STAFF_FIELDS))
        if created:
            staff.user = User.objects.create_user(
                staff.staff_number, password=None, name=staff.name
            )
        else:
            User.objects.filter(pk=staff.user_id).update(name=staff.name)
        if id_number:
            staff.set_id_number(id_number)
            changes["id_number"] = ["", "***"]  # never the number itself
        staff.save()
        _changed(actor, "staff", staff, created, changes)
    return staff


def import_places(
    actor: Actor, model, kind: str, rows: list[dict], fields: tuple[str, ...], group, note: str
) -> dict:
    """New codes created, known codes renamed/updated (rows: code + fields), one transaction."""
    require_office(actor)
    with transaction.atomic():
        known = {p.code: p for p in model.objects.select_for_update()}
        # Names are unique: park renamed rows on a temporary name first so swaps do not collide.
        changed = [known[v["code"]] for v in rows if v["code"] in known]
        for obj in changed:
            obj.name = f"~{obj.code}"
        if changed:
            model.objects.bulk_update(changed, ["name"])
        by_code = {v["code"]: v for v in rows}
        for obj in changed:
            for f in fields:
                setattr(obj, f, by_code[obj.code][f])
        if changed:
            model.objects.bulk_update(changed, list(fields))
        new = [
            model(code=v["code"], **{f: v[f] for f in fields})
            for v in rows
            if v["code"] not in known
        ]
        model.objects.bulk_create(new)
        if changed:  # students' pages show these names
            categories_changed()
        if model is College and (new or changed):
            forget_colleges()  # the desk's filter lists them
        result = {"created": len(new), "updated": len(changed)}
        audit.log(actor, f"{kind}.imported", group=group, note=note, data=result)
    return result


def import_staff(actor: Actor, kind: str, rows: list[StaffEntry], group, note: str) -> dict:
    """New staff get accounts (the initial-password rule when an ID number is given); known
    staff numbers are updated. One transaction."""
    require_office(actor)
    with transaction.atomic():
        existing = {
            s.staff_number: s
            for s in Staff.objects.filter(staff_number__in=[r.staff_number for r in rows])
        }
        new = [r for r in rows if r.staff_number not in existing]
        create_staff(new)
        updated = []
        for r in rows:
            s = existing.get(r.staff_number)
            if s is None:
                continue
            s.name, s.college_id, s.department_id, s.phone = (
                r.name,
                r.college_id,
                r.department_id,
                r.phone,
            )
            if r.id_number:
                s.set_id_number(r.id_number)
            updated.append(s)
        if updated:
            Staff.objects.bulk_update(
                updated,
                [
                    "name",
                    "college",
                    "department",
                    "phone",
                    "id_number_enc",
                    "id_number_hash",
                    "id_number_masked",
                ],
            )
            User.objects.bulk_update([User(id=s.user_id, name=s.name) for s in updated], ["name"])
            categories_changed()  # a step's history shows the handler's unit
        result = {"created": len(new), "updated": len(updated)}
        audit.log(actor, f"{kind}.imported", group=group, note=note, data=result)
    return result
