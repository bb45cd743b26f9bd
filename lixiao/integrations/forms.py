"""Forms of the source pages: upload a file, configure the pull."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.services import pull


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx 或 .csv）"))
    mode = forms.ChoiceField(
        label=gettext_lazy("方式"),
        initial="upsert",
        choices=[
            ("upsert", gettext_lazy("新增或更新文件中的学生")),
            ("replace", gettext_lazy("以文件为准（删除文件中没有的学生的数据）")),
        ],
    )


class PullForm(forms.ModelForm):
    class Meta:
        model = IntegrationSource
        fields = ["pull_url", "pull_query", "pull_columns", "stale_after_hours"]
        widgets = {"pull_query": forms.Textarea(attrs={"rows": 3})}

    def clean_pull_query(self):
        query = self.cleaned_data["pull_query"].strip()
        if query:
            try:
                pull.check_query(query)
            except pull.PullError:
                # pull.py keeps its Chinese text (it also lands in the stored sync log).
                raise forms.ValidationError(
                    _("拉取查询只能是一条 SELECT（或 WITH … SELECT）语句")
                ) from None
        return query

    def clean_pull_url(self):
        url = self.cleaned_data["pull_url"].strip()
        if url and not url.startswith(("sqlite:///", "postgres://", "postgresql://", "env:")):
            raise forms.ValidationError(
                _("地址须以 sqlite:///、postgres:// 或 env:（环境变量名）开头")
            )
        return url

    def clean_pull_columns(self):
        columns = self.cleaned_data["pull_columns"] or {}
        if not isinstance(columns, dict) or set(columns) - set(pull.KEYS):
            # The keys are spelled out (they are pull.KEYS) so each language lists them its own way.
            raise forms.ValidationError(
                _("列对应须为 JSON 对象，键只能是 student_number、cleared、reason、amount")
            )
        return columns
