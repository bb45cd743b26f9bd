"""Categories (离校类别): create, change (a new completion rule re-settles completion), delete,
and the student service settings (学生服务设置)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lixiao.clearance.models import Batch, Category
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, require_office
from lixiao.clearance.services.enrolment import refresh_completion
from lixiao.clearance.services.versions import categories_changed

FIELDS = ("name", "completion_rule", "change_deadline")


def join_names(names) -> str:
    """Names listed in a sentence: 、 in Chinese, a comma in English."""
    return pgettext("list separator", "、").join(names)


def create_category(actor: Actor, fields: dict) -> Category:
    require_office(actor)
    with transaction.atomic():
        category = Category.objects.create(**{k: v for k, v in fields.items() if k in FIELDS})
        audit.log(
            actor,
            "console.category.created",
            data={
                "category": category.id,
                "name": category.name,
                "completion_rule": category.completion_rule,
            },
        )
    return category


def update_category(actor: Actor, category: Category, fields: dict) -> dict:
    """Change name, rule or change deadline; returns {field: [before, after]} of what changed.

    A new completion rule (Rule 3) re-settles every form of every batch of the category.
    """
    require_office(actor)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        before = audit.snapshot(category, FIELDS)
        for name, value in fields.items():
            if name in FIELDS:
                setattr(category, name, value)
        changes = audit.diff(before, audit.snapshot(category, FIELDS))
        if not changes:
            return {}
        category.save()
        categories_changed([category.pk])
        audit.log(
            actor, "console.category.updated", data={"category": category.id, "changes": changes}
        )
        if "completion_rule" in changes:
            for batch in Batch.objects.filter(category=category).select_related("category"):
                refresh_completion(actor, batch)
    return changes


def delete_category(actor: Actor, category: Category) -> None:
    """Refused while a batch uses the category (its forms and history hang on it)."""
    require_office(actor)
    with transaction.atomic():
        batches = list(Batch.objects.filter(category=category).values_list("name", flat=True))
        if batches:
            raise Refused(
                _(
                    "“%(name)s”正被离校批次使用（%(batches)s），不能删除；"
                    "请先删除或改用其他类别的批次。"
                )
                % {"name": category.name, "batches": join_names(batches)},
                "in_use",
            )
        audit.log(
            actor,
            "console.category.deleted",
            data={"category": category.id, "name": category.name},
        )
        category.delete()


def set_survey_enabled(actor: Actor, category: Category, enabled: bool) -> bool:
    """Switch the survey (调查问卷) on or off for the category's students; True if it changed."""
    require_office(actor)
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        if category.survey_enabled == enabled:
            return False
        category.survey_enabled = enabled
        category.save(update_fields=["survey_enabled"])
        categories_changed([category.pk])
        audit.log(
            actor,
            "console.category.service_updated",
            data={"category": category.id, "survey_enabled": enabled},
        )
    return True
