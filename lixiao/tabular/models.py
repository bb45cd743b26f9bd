"""An import in progress: the uploaded file kept between preview and confirm, and its outcome."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("待确认")
        APPLYING = "applying", _("导入中")
        APPLIED = "applied", _("已导入")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    kind = models.CharField(max_length=48)  # which importer (tabular.jobs registry)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    context = models.JSONField(default=dict, blank=True)  # e.g. {"batch": 3, "step": 12}
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    preview = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    group = models.UUIDField(
        default=uuid.uuid4, editable=False
    )  # the audit group of the applied changes

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "kind", "created_at"])]

    def __str__(self):
        return f"{self.kind} {self.filename} ({self.get_status_display()})"
