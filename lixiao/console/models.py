"""Change requests (环节变更申请): a department asks the office to add or remove a step."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lixiao.clearance.models import OwnerType


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        ADD = "add", _("新增环节")
        REMOVE = "remove", _("删除环节")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已驳回")
        DONE = "done", _("已加入类别")  # an approved addition whose draft the office completed

    category = models.ForeignKey(
        "clearance.Category", on_delete=models.CASCADE, related_name="change_requests"
    )
    kind = models.CharField(_("申请类型"), max_length=8, choices=Kind.choices)
    # For a removal, the step; for an addition, the step once the office has completed the draft.
    step = models.ForeignKey(
        "clearance.Step",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_requests",
    )
    title = models.CharField(_("环节标题"), max_length=64)
    owner_type = models.CharField(
        _("环节类型"), max_length=16, choices=OwnerType.choices, blank=True
    )
    department = models.ForeignKey(
        "directory.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    instructions = models.TextField(_("办理说明"), blank=True)
    reason = models.TextField(_("申请理由"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = verbose_name_plural = _("环节变更申请")

    def __str__(self):
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def is_draft(self) -> bool:
        """An approved addition whose step the office has not completed yet (待完善)."""
        return self.kind == self.Kind.ADD and self.status == self.Status.APPROVED
