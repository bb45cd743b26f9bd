"""A student's objection (异议) or "I have done this" (我已办理) on one step, and its answer."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def attachment_path(objection: "Objection", filename: str) -> str:
    # The stored name never comes from the student: a random name and the type found by content.
    return f"objections/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{objection.attachment_type}"


class Objection(models.Model):
    class Kind(models.TextChoices):
        OBJECTION = "objection", _("异议")
        DONE = "done", _("我已办理")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        REPLIED = "replied", _("已回复")
        CONFIRMED = "confirmed", _("已核实通过")
        DISMISSED = "dismissed", _("未予采纳")

    form = models.ForeignKey("clearance.Form", on_delete=models.PROTECT, related_name="objections")
    record = models.ForeignKey(
        "clearance.Record", on_delete=models.PROTECT, related_name="objections"
    )
    step = models.ForeignKey("clearance.Step", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    message = models.CharField(_("留言"), max_length=500)
    attachment = models.FileField(_("附件"), upload_to=attachment_path, blank=True, max_length=200)
    attachment_type = models.CharField(_("附件类型"), max_length=8, blank=True)  # png, jpeg, pdf
    attachment_name = models.CharField(_("附件原文件名"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reply = models.TextField(_("答复"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = _("异议")
        indexes = [
            models.Index(fields=["form", "created_at"]),
            models.Index(fields=["step", "status"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.form_id}/{self.step_id}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.REPLIED)
