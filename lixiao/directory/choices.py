"""Colleges as (id, name) option lists: every desk search page draws them in its filter panel.

Kept in the cache for a few minutes and dropped on every change made through the models;
a bulk change elsewhere shows up in the lists within CACHE_SECONDS at worst (the filter
itself is by id and within the person's scope, so a stale list never widens what they see).
"""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lixiao.directory.models import College

KEY = "directory:college-choices"
CACHE_SECONDS = 300


def college_choices() -> tuple[tuple[int, str], ...]:
    """Every college's (id, name), in code order."""
    return cache.get_or_set(
        KEY,
        lambda: tuple(College.objects.order_by("code").values_list("id", "name")),
        CACHE_SECONDS,
    )


def forget_colleges() -> None:
    cache.delete(KEY)


@receiver(post_save, sender=College)
@receiver(post_delete, sender=College)
def _college_changed(**_kwargs) -> None:
    forget_colleges()
