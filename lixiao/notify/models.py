"""In-app notifications (站内通知)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField(default=timezone.now)
    title = models.CharField("标题", max_length=128)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=255, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]


class WebhookDelivery(models.Model):
    """One message to the group robot, with its attempts: a failed delivery is visible, not lost."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已送达"
        FAILED = "failed", "失败"

    created_at = models.DateTimeField(default=timezone.now)
    url = models.CharField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class DeadlineReminder(models.Model):
    """One deadline reminder (截止日期提醒) sent to one person on one day: at most one a day.

    Written by lixiao.notify.deadlines in the same transaction as the notification it stands
    for; the unique constraint keeps two runs on the same day from reminding anyone twice.
    """

    class Kind(models.TextChoices):
        STUDENT = "student", "学生"
        HANDLER = "handler", "办理人员"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "user", "day"], name="one_deadline_reminder_a_day"
            )
        ]
        indexes = [models.Index(fields=["day", "kind"])]
