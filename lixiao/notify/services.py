"""Sending notifications: one entry point for every channel (in-app now; email and webhook later)."""

from collections.abc import Iterable

from django.utils import timezone

from lixiao.notify.models import Notification


def send(user_ids: Iterable[int], title: str, body: str = "", link: str = "") -> int:
    """Notify each person once; runs inside the caller's transaction. Returns how many were reached."""
    now = timezone.now()
    rows = [Notification(user_id=uid, created_at=now, title=title, body=body, link=link) for uid in set(user_ids)]
    Notification.objects.bulk_create(rows)
    return len(rows)
