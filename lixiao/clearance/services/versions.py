"""Cache versions: what a write moves on so that every cached copy of what it changed is dropped.

The student's page is cached under a key holding each form's and each category's changed_at
(lixiao.portal.page_cache). Every service that changes what that page shows calls one of
these, explicitly and in its own transaction: records, reasons, objections, surveys and student
attributes move their forms; configuration (categories, steps, survey questions) moves its
category; places, staff and sources, shared by every category and rarely changed, move all.
A write that commits makes the old keys unreachable at the same moment.
"""

from collections.abc import Iterable

from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance.models import Category, Form


def forms_changed(form_ids: Iterable[int]) -> None:
    """Move these forms' changed_at on: one UPDATE (chunked IN lists).

    The time is taken here, at write time (inside the writer's form locks), not when the
    operation started: the key only needs a value the form never had before.
    """
    ids = sorted(set(form_ids))
    if ids:
        sqlbulk.update_where_in(Form._meta.db_table, {"changed_at": timezone.now()}, ids)


def students_changed(student_ids: Iterable[int]) -> list[int]:
    """Move the forms of these students (their page shows the students' attributes).

    Returns the form ids moved.
    """
    ids = sorted(set(student_ids))
    rows = sqlbulk.select_in(Form._meta.db_table, ("id",), "student_id", ids) if ids else []
    form_ids = [fid for (fid,) in rows]
    forms_changed(form_ids)
    return form_ids


def categories_changed(category_ids: Iterable[int] | None = None) -> None:
    """Move these categories' changed_at on (every category when None): one UPDATE."""
    qs = Category.objects.all()
    if category_ids is not None:
        ids = {i for i in category_ids if i is not None}
        if not ids:
            return
        qs = qs.filter(pk__in=ids)
    qs.update(changed_at=timezone.now())
