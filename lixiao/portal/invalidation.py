"""Moves Category.changed_at on when configuration the student's page shows changes.

The portal caches the forms section of /me/ under a key that holds each form's and each
category's changed_at (lixiao.portal.page_cache). Records, objections and surveys move the
form's changed_at in their writers; configuration (steps, survey questions, departments,
colleges, sources, staff shown in a step's history) moves its category's here, by signals,
in the same transaction as the change. Places, sources and staff are shared by every
category and change rarely, so they move every category.

Writes that send no signals (QuerySet.update, bulk_update) call `categories_changed` themselves.
"""

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from lixiao.clearance.models import Category, Step
from lixiao.directory.models import College, Department, Staff
from lixiao.integrations.models import IntegrationSource
from lixiao.survey.models import Question

# IntegrationSource fields the page shows (stale_after_hours decides "数据已过期"); token and
# lease bookkeeping saves other fields often and must not empty every cache.
SOURCE_SHOWN = {"name", "stale_after_hours"}


def categories_changed(category_ids: Iterable[int] | None = None) -> None:
    """Move changed_at of these categories (all of them when None): one UPDATE."""
    qs = Category.objects.all()
    if category_ids is not None:
        ids = {i for i in category_ids if i is not None}
        if not ids:
            return
        qs = qs.filter(pk__in=ids)
    # QuerySet.update sends no signal, so Category's own receiver does not run again.
    qs.update(changed_at=timezone.now())


def _category_itself(sender, instance, **kwargs):
    if not kwargs.get("raw"):  # fixtures load rows as they are
        categories_changed([instance.pk])


def _of_category(sender, instance, **kwargs):
    if not kwargs.get("raw"):
        categories_changed([instance.category_id])


def _shared(sender, instance, **kwargs):
    if not kwargs.get("raw"):
        categories_changed()


def _source(sender, instance, update_fields=None, **kwargs):
    if kwargs.get("raw") or (update_fields is not None and not SOURCE_SHOWN & set(update_fields)):
        return
    categories_changed()


def connect() -> None:
    """Called once from PortalConfig.ready()."""
    post_save.connect(_category_itself, sender=Category, dispatch_uid="portal.cache.category")
    for model in (Step, Question):
        name = model._meta.label_lower
        post_save.connect(_of_category, sender=model, dispatch_uid=f"portal.cache.save.{name}")
        post_delete.connect(_of_category, sender=model, dispatch_uid=f"portal.cache.delete.{name}")
    for model in (College, Department, Staff):
        name = model._meta.label_lower
        post_save.connect(_shared, sender=model, dispatch_uid=f"portal.cache.save.{name}")
        post_delete.connect(_shared, sender=model, dispatch_uid=f"portal.cache.delete.{name}")
    post_save.connect(_source, sender=IntegrationSource, dispatch_uid="portal.cache.save.source")
    post_delete.connect(
        _shared, sender=IntegrationSource, dispatch_uid="portal.cache.delete.source"
    )
