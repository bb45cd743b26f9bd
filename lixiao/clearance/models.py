"""The domain: categories of steps, batches, grants, forms, records and the audit log."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lixiao.directory.models import StudentType


class CompletionRule(models.TextChoices):
    REQUIRED = "required", _("办结必办即完成")
    ALL = "all", _("办结全部即完成")


class OwnerType(models.TextChoices):
    DEPARTMENT = "department", _("学校部门")
    COLLEGE = "college", _("院系")


class Precedence(models.TextChoices):
    SOURCE = "source", _("以集成表为准（同步可双向改变）")
    MANUAL_WINS = "manual_wins", _("人工优先（人工通过不被同步撤销）")


class State(models.TextChoices):
    NOT_REQUIRED = "not_required", _("无需办理")
    PENDING = "pending", _("未办理")
    PASSED = "passed", _("已办理")


class Source(models.TextChoices):
    DESK = "desk", _("现场办理")
    BULK = "bulk", _("批量办理")
    IMPORT = "import", _("导入")
    API = "api", _("接口")
    SYNC = "sync", _("数据同步")
    CASCADE = "cascade", _("联动")
    ADMIN = "admin", _("管理员")
    SURVEY = "survey", _("调查问卷")
    ROSTER = "roster", _("名单导入")


class Lifecycle(models.TextChoices):
    """Where a batch is in its life: open → closed → archived → purged (清除个人信息)."""

    NOT_YET = "not_yet", _("尚未开始")
    OPEN = "open", _("办理中")
    CLOSED = "closed", _("已结束")
    ARCHIVED = "archived", _("已归档")
    PURGED = "purged", _("已清除个人信息")


class Scope(models.TextChoices):
    SCHOOL = "school", _("全校")
    COLLEGE = "college", _("本院系")
    MINE = "mine", _("我的学生")


class Category(models.Model):
    name = models.CharField(_("类别名称"), max_length=64, unique=True)
    completion_rule = models.CharField(
        _("办结规则"),
        max_length=16,
        choices=CompletionRule.choices,
        default=CompletionRule.REQUIRED,
    )
    survey_enabled = models.BooleanField(_("学生服务：调查问卷"), default=False)
    change_deadline = models.DateField(_("环节变更申请截止日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved on by clearance.services.versions whenever what students see of the category changes
    # (steps, survey questions, departments, sources): part of the portal's page-cache key.
    changed_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = _("离校类别")

    def __str__(self):
        return self.name


class Step(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(_("环节标题"), max_length=64)
    owner_type = models.CharField(_("环节类型"), max_length=16, choices=OwnerType.choices)
    department = models.ForeignKey(
        "directory.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="steps",
    )
    required = models.BooleanField(_("是否必办"), default=True)
    automatic = models.BooleanField(_("自动办理"), default=False)
    source = models.ForeignKey(
        "integrations.IntegrationSource",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="steps",
    )
    precedence = models.CharField(
        _("人工与同步的优先"), max_length=16, choices=Precedence.choices, default=Precedence.SOURCE
    )
    is_final = models.BooleanField(_("最终环节（院系离校）"), default=False)
    # [{"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}, …]: all must hold.
    condition = models.JSONField(_("适用条件"), default=list, blank=True)
    instructions = models.TextField(_("办理说明"), blank=True)
    contact = models.CharField(_("联系方式"), max_length=128, blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=0)
    deadline = models.DateField(_("办理截止日期"), null=True, blank=True)
    # Passed through the writer (source "survey") when the student submits the category's survey.
    survey_bound = models.BooleanField(_("提交问卷即通过"), default=False)

    class Meta:
        ordering = ["category", "order", "id"]
        verbose_name = verbose_name_plural = _("环节")
        constraints = [
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_final=True), name="one_final_step_per_category"
            ),
            models.UniqueConstraint(
                fields=["category", "title"], name="unique_step_title_in_category"
            ),
            models.CheckConstraint(
                condition=Q(owner_type="college") | Q(department__isnull=False),
                name="department_step_names_department",
            ),
        ]

    def __str__(self):
        return self.title


class Batch(models.Model):
    name = models.CharField(_("批次名称"), max_length=64)
    academic_year = models.CharField(_("学年"), max_length=9, help_text=_("例如 2025-2026"))
    student_type = models.CharField(
        _("学生类别"), max_length=8, choices=StudentType.choices, blank=True
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="batches")
    opens_at = models.DateTimeField(_("服务开始时间"))
    closes_at = models.DateTimeField(_("服务结束时间"))
    description = models.TextField(_("描述"), blank=True)
    enabled = models.BooleanField(_("是否使用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The lifecycle after the service window (clearance.services.lifecycle and .purge): once
    # archived, the writer refuses every change on the batch's forms, for everyone.
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set when no student of the batch keeps personal data any more (every form purged).
    purged_at = models.DateTimeField(_("个人信息清除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opens_at", "-id"]
        verbose_name = verbose_name_plural = _("离校批次")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="window_ends_after_start"
            )
        ]

    def __str__(self):
        return self.name

    def window_state(self, now=None) -> str:
        """'open', 'not_yet' or 'closed'."""
        now = now or timezone.now()
        if now < self.opens_at:
            return "not_yet"
        if now >= self.closes_at:
            return "closed"
        return "open"

    def lifecycle(self, now=None) -> str:
        """A Lifecycle value: the window's state until the batch is archived, then archived or
        purged."""
        if self.purged_at is not None:
            return Lifecycle.PURGED
        if self.archived_at is not None:
            return Lifecycle.ARCHIVED
        return self.window_state(now)


class Grant(models.Model):
    """A person allowed to handle a step, with its scope. batch=None: the category's default."""

    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants"
    )
    scope = models.CharField(_("范围"), max_length=16, choices=Scope.choices)
    college = models.ForeignKey(
        "directory.College", on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    starts_on = models.DateField(_("生效日期"), null=True, blank=True)
    ends_on = models.DateField(pgettext_lazy("grant", "截止日期"), null=True, blank=True)
    is_lead = models.BooleanField(_("可向本院系人员再授权"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("人员授权")
        indexes = [models.Index(fields=["user", "batch"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="college") | Q(college__isnull=False),
                name="college_scope_names_college",
            ),
            models.UniqueConstraint(
                fields=["batch", "step", "user", "college"],
                name="unique_college_grant",
                condition=Q(college__isnull=False, batch__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["batch", "step", "user", "scope"],
                name="unique_grant",
                condition=Q(college__isnull=True, batch__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.step} · {self.get_scope_display()}"

    def active_on(self, day) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )


class Form(models.Model):
    """One student's departure form (离校单) in one batch."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="forms")
    student = models.ForeignKey("directory.Student", on_delete=models.PROTECT, related_name="forms")
    # Copied from the student so that scoped lists filter one table; kept in step by the writer.
    college = models.ForeignKey("directory.College", on_delete=models.PROTECT, related_name="+")
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counselled_forms",
    )
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved on, in the same transaction, by every write the student's page shows (records,
    # reasons, objections, survey, student attributes): part of the portal's page-cache key.
    # db_default: bulk inserts that name their columns (bench, imports) still get a value.
    changed_at = models.DateTimeField(default=timezone.now, db_default=Now())
    # When the student's personal data was removed (clearance.services.purge): the form, its
    # states and dates stay for the counts; name, ID number, phone and attachments are gone.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("离校单")
        constraints = [
            models.UniqueConstraint(fields=["batch", "student"], name="one_form_per_batch_student")
        ]
        indexes = [
            models.Index(fields=["batch", "college"]),
            models.Index(fields=["batch", "counselor"]),
            models.Index(fields=["batch", "completed_at"]),
            # The supervision page's "pending longest": the first unfinished forms by age,
            # read from this index instead of sorting every unfinished form of the batch.
            models.Index(
                fields=["batch", "created_at", "id"],
                condition=Q(completed_at__isnull=True),
                name="form_unfinished_by_age",
            ),
        ]

    def __str__(self):
        return f"{self.batch} · {self.student_id}"


class Record(models.Model):
    """One step on one form (环节状态)."""

    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="records")
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="records")
    state = models.CharField(_("状态"), max_length=16, choices=State.choices)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, blank=True)
    reason = models.CharField(_("集成表说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("环节状态")
        constraints = [
            models.UniqueConstraint(fields=["form", "step"], name="one_record_per_form_step")
        ]
        indexes = [models.Index(fields=["step", "state"])]

    def __str__(self):
        return f"{self.form_id}/{self.step_id}: {self.state}"


class Event(models.Model):
    """Append-only audit log: never updated or deleted (database triggers refuse it)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=64, db_index=True)
    batch = models.ForeignKey(
        Batch, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    form = models.ForeignKey(
        Form, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="events"
    )
    record = models.ForeignKey(
        Record, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="events"
    )
    step = models.ForeignKey(
        Step, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=255, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    group = models.UUIDField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("审计日志")
        indexes = [
            models.Index(fields=["form", "at"]),
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["step", "at"]),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


def archive_path(archive: "BatchArchive", filename: str) -> str:
    # Through the default storage (any backend); a random part so an old link never names a new file.
    return f"archives/{archive.batch_id}/{uuid.uuid4().hex[:12]}-{filename}"


class BatchArchive(models.Model):
    """The archive export (归档文件) of an archived batch: built by a background task
    (clearance.tasks.build_archive), kept in Django's storage; one per batch, rebuilt on request."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("生成失败")

    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="archive")
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=archive_path, blank=True, max_length=255)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # students, records, events in the file
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("归档文件")

    def __str__(self):
        return f"{self.batch} · {self.get_status_display()}"


class StepTally(models.Model):
    """Counts per batch × step × college, maintained by the writer so statistics read a few rows."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="+")
    college = models.ForeignKey("directory.College", on_delete=models.CASCADE, related_name="+")
    not_required = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    passed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "step", "college"], name="one_tally_per_step_college"
            )
        ]


class FormTally(models.Model):
    """Forms and completed forms per batch × college, maintained by the writer."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    college = models.ForeignKey("directory.College", on_delete=models.CASCADE, related_name="+")
    forms = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "college"], name="one_form_tally_per_college")
        ]


class DailyStepTally(models.Model):
    """What one day changed of a step's counts in a batch, maintained by the writer beside StepTally.

    Net per local day: `applicable` (records that became applicable, minus those that stopped),
    `passed` (passes minus revokes). Summed over every day they equal StepTally, so the state
    at the end of any past day is today's minus the days after it (the burn-down), and the
    forecast reads its pace here instead of scanning events. `writes` counts the records
    written that day and never decreases: the follow-up page's cached section is keyed by it.
    """

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    applicable = models.IntegerField(default=0)
    passed = models.IntegerField(default=0)
    writes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "step", "day"], name="one_day_tally_per_step")
        ]


class DailyFormTally(models.Model):
    """What one day changed of a college's forms in a batch: net forms added and net completions
    (completions minus reopenings), maintained by the writer beside FormTally."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    college = models.ForeignKey("directory.College", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    forms = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "college", "day"], name="one_day_tally_per_college"
            )
        ]


class ChangeRequest(models.Model):
    """A department's request to add or remove a step (环节变更申请), decided by the office."""

    class Kind(models.TextChoices):
        ADD = "add", _("新增环节")
        REMOVE = "remove", _("删除环节")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已驳回")
        DONE = "done", _("已加入类别")  # an approved addition whose draft the office completed

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(_("申请类型"), max_length=8, choices=Kind.choices)
    # For a removal, the step; for an addition, the step once the office has completed the draft.
    step = models.ForeignKey(
        Step,
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
