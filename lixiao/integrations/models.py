"""Integration sources (集成表): data fed by another system that decides automatic steps."""

from django.db import models


class IntegrationSource(models.Model):
    """e.g. finance = 集成表1, library = 集成表2; the office can add more."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    department = models.ForeignKey(
        "directory.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="sources"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "集成表"

    def __str__(self):
        return self.name


class SourceRow(models.Model):
    """One student's line in a source: cleared or not, and why (shown to the student)."""

    source = models.ForeignKey(IntegrationSource, on_delete=models.CASCADE, related_name="rows")
    student_number = models.CharField("学号", max_length=32)
    cleared = models.BooleanField("已结清")
    reason = models.CharField("原因", max_length=255, blank=True)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "student_number"], name="one_row_per_student_per_source")
        ]
