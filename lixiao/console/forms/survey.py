"""Service settings (学生服务设置) and the survey's question editor."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lixiao.console.forms import split_values
from lixiao.survey.models import Question
from lixiao.ui import BootstrapMixin


class ServiceForm(BootstrapMixin, forms.Form):
    survey_enabled = forms.BooleanField(
        label=_("向学生提供调查问卷"),
        required=False,
        help_text=_("离校单始终提供；问卷开启后学生在离校单页面填写，只能提交一次。"),
    )


class QuestionForm(BootstrapMixin, forms.ModelForm):
    choices_text = forms.CharField(
        label=_("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("单选、多选题每行一个选项（至少两个）；填空题留空。"),
    )

    class Meta:
        model = Question
        fields = ["text", "kind", "required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["choices_text"].initial = "\n".join(self.instance.choices)

    def clean(self):
        data = super().clean()
        options = [v for v in split_values(data.get("choices_text", "")) if v]
        if data.get("kind") in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) and len(options) < 2:
            self.add_error("choices_text", gettext("单选题和多选题至少需要两个选项。"))
        data["choices"] = options if data.get("kind") != Question.Kind.TEXT else []
        return data
