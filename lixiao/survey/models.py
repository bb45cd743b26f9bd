"""The survey (调查问卷) a category shows its students, and their answers (one response per form)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")
        TEXT = "text", _("填空")

    category = models.ForeignKey(
        "clearance.Category", on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    text = models.CharField(_("题目"), max_length=255)
    kind = models.CharField(_("题型"), max_length=16, choices=Kind.choices)
    required = models.BooleanField(_("必答"), default=True)
    choices = models.JSONField(_("选项"), default=list, blank=True)  # list of option texts

    class Meta:
        ordering = ["category", "order", "id"]
        verbose_name = verbose_name_plural = _("问卷题目")

    def __str__(self):
        return self.text


class Response(models.Model):
    """A student's answers, submitted once: {question id (as text): answer or list of answers}."""

    form = models.OneToOneField(
        "clearance.Form", on_delete=models.PROTECT, related_name="survey_response"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    answers = models.JSONField(default=dict)

    class Meta:
        verbose_name = verbose_name_plural = _("问卷答卷")
