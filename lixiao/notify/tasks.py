"""Notification tasks: emails and webhook deliveries leave the request and retry in the worker."""

import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.core.mail.message import EmailMessage
from django.utils import timezone
from django_tasks import task

from lixiao.notify.models import WebhookDelivery

log = logging.getLogger(__name__)


@task()
def send_emails(messages: list[list]) -> int:
    """messages: [user id, subject, body]; people without an address are skipped. Returns how many sent."""
    emails = dict(
        get_user_model()
        .objects.filter(pk__in={m[0] for m in messages}, is_active=True)
        .exclude(email="")
        .values_list("pk", "email")
    )
    out = [
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [emails[uid]])
        for uid, subject, body in messages
        if uid in emails
    ]
    if not out:
        return 0
    with get_connection() as connection:
        return connection.send_messages(out) or 0


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST the message, retrying with exponential back-off; the delivery row keeps the outcome."""
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False).encode()
    attempts = settings.LIXIAO_WEBHOOK_ATTEMPTS
    for attempt in range(attempts):
        delivery.attempts += 1
        try:
            _post(delivery.url, body)
        except (OSError, ValueError) as exc:
            delivery.last_error = str(exc)[:255]
            delivery.save(update_fields=["attempts", "last_error"])
            if attempt + 1 < attempts:
                time.sleep(settings.LIXIAO_WEBHOOK_BACKOFF_SECONDS * 2**attempt)
            continue
        delivery.status, delivery.sent_at = WebhookDelivery.Status.SENT, timezone.now()
        delivery.save(update_fields=["attempts", "status", "sent_at"])
        return delivery.status
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status"])
    log.warning(
        "webhook delivery %s failed after %s attempts: %s",
        delivery.pk,
        attempts,
        delivery.last_error,
    )
    return delivery.status


def _post(url: str, body: bytes) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError("webhook URL must start with http:// or https://")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — scheme checked above
        reply = response.read(65536)
    # WeCom and DingTalk answer 200 with {"errcode": 0}; anything else is a failure to retry.
    try:
        errcode = json.loads(reply or b"{}").get("errcode", 0)
    except (ValueError, AttributeError):
        errcode = 0
    if errcode:
        raise ValueError(f"robot answered errcode={errcode}")
