"""Integration sources (集成表): data fed by another system that decides automatic steps."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IntegrationSource(models.Model):
    """e.g. finance = 集成表1, library = 集成表2; the office can add more."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    department = models.ForeignKey(
        "directory.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
    )
    # The push token is shown once and only its SHA-256 is kept: a leaked database leaks no token.
    token_hash = models.CharField(_("推送令牌摘要"), max_length=64, blank=True)
    token_created_at = models.DateTimeField(_("令牌生成时间"), null=True, blank=True)
    token_revoked_at = models.DateTimeField(_("令牌撤销时间"), null=True, blank=True)
    # Pull: a read-only query against another database. The URL may be "env:NAME" so that a
    # password lives in the environment, not in this table.
    pull_url = models.CharField(_("拉取数据库地址"), max_length=500, blank=True)
    pull_query = models.TextField(_("拉取查询（只读 SELECT）"), blank=True)
    pull_columns = models.JSONField(
        _("列对应"),
        default=dict,
        blank=True,
        help_text=_(
            '例如 {"student_number": "xh", "cleared": "jq", "reason": "yy", "amount": "je"}'
        ),
    )
    stale_after_hours = models.PositiveIntegerField(
        _("数据过期时限（小时）"),
        null=True,
        blank=True,
        help_text=_("超过此时限未再收到某学生的数据时，视为无数据（不会自动通过）；留空表示不过期"),
    )
    data_at = models.DateTimeField(_("最近收到数据"), null=True, blank=True)
    # A lease instead of a long transaction: a full sync spans many chunk transactions, and a
    # second node must see that one is running (DESIGN: periodic jobs safe on several nodes).
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = _("集成表")

    def __str__(self):
        return self.name

    @property
    def has_token(self) -> bool:
        return bool(self.token_hash) and self.token_revoked_at is None

    @property
    def pulls(self) -> bool:
        return bool(self.pull_url and self.pull_query)


class SourceRow(models.Model):
    """One student's line in a source: cleared or not, and why (shown to the student)."""

    source = models.ForeignKey(IntegrationSource, on_delete=models.CASCADE, related_name="rows")
    student_number = models.CharField(_("学号"), max_length=32)
    cleared = models.BooleanField(_("已结清"))
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"))  # when the content last changed
    checked_at = models.DateTimeField(
        _("最近确认时间"), null=True, blank=True
    )  # when last delivered

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "student_number"], name="one_row_per_student_per_source"
            )
        ]


class SyncRun(models.Model):
    """One application of a source to the open forms: the log shown on the source page."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("手动")
        PUSH = "push", _("推送后")
        UPLOAD = "upload", _("上传后")
        SCHEDULE = "schedule", _("定时")
        RECHECK = "recheck", _("单个复查")

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("完成")
        FAILED = "failed", _("有错误")
        SKIPPED = "skipped", _("跳过（另一同步进行中）")

    source = models.ForeignKey(IntegrationSource, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    forms = models.IntegerField(_("检查的学生"), default=0)
    passed = models.IntegerField(_("通过"), default=0)
    returned = models.IntegerField(_("退回未办理"), default=0)
    unchanged = models.IntegerField(_("未变化"), default=0)
    no_data = models.IntegerField(_("无数据"), default=0)
    unknown = models.IntegerField(_("未知学号"), default=0)
    pulled = models.IntegerField(_("拉取行数"), null=True, blank=True)
    error_count = models.IntegerField(_("错误"), default=0)
    errors = models.JSONField(default=list, blank=True)  # first few messages, in Chinese

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "started_at"])]


class PushWindow(models.Model):
    """Pushes per source per minute: the rate limit lives in the database, not in a process."""

    source = models.ForeignKey(IntegrationSource, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    hits = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "minute"], name="one_push_window_per_minute")
        ]
