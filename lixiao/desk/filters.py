"""The desk's search form: the search page, bulk "all matching" and export (the core parses it)."""

from functools import lru_cache
from types import SimpleNamespace

from django import forms
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lixiao.clearance import queries
from lixiao.clearance.models import State
from lixiao.clearance.queries import Filters
from lixiao.directory.choices import college_choices
from lixiao.directory.models import POLITICAL_STATUSES, College, StudentType

ANY = [("", gettext_lazy("全部"))]
COMPLETION = [*ANY, ("yes", gettext_lazy("已办结")), ("no", gettext_lazy("未办结"))]
FILTER_KEYS = (
    "q",
    "college",
    "major",
    "class_name",
    "student_type",
    "political_status",
    "completed",
)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("学号 / 姓名 / 身份证件号"), required=False, max_length=64
    )
    college = forms.ModelChoiceField(
        College.objects.order_by("code"),
        label=gettext_lazy("院系"),
        required=False,
        empty_label=gettext_lazy("全部"),
    )
    major = forms.CharField(label=gettext_lazy("专业"), required=False, max_length=64)
    class_name = forms.CharField(label=gettext_lazy("班级"), required=False, max_length=64)
    student_type = forms.ChoiceField(
        label=gettext_lazy("学生类别"), required=False, choices=[*ANY, *StudentType.choices]
    )
    political_status = forms.ChoiceField(
        label=gettext_lazy("政治面貌"),
        required=False,
        choices=[*ANY, *((p, p) for p in POLITICAL_STATUSES)],
    )
    completed = forms.ChoiceField(
        label=gettext_lazy("办结情况"), required=False, choices=COMPLETION
    )

    def __init__(self, data, steps, colleges=None):
        """colleges: the ids the person reaches (scope.Reach.colleges), or None for any."""
        super().__init__(data)
        self.steps = steps
        self.colleges = colleges
        if colleges is not None:
            self.fields["college"].queryset = College.objects.filter(id__in=colleges).order_by(
                "code"
            )
        for step in steps:
            self.fields[f"s{step.id}"] = forms.ChoiceField(
                label=_("“%(title)s”状态") % {"title": step.title},
                required=False,
                choices=[*ANY, *State.choices],
            )

    def filters(self) -> Filters:
        """The valid part of the query: an invalid field counts as 'any' and shows its error."""
        self.is_valid()  # the errors show beside their fields; the core reads the values
        return queries.parse_filters(self.data, self.steps, self.colleges)

    def panel_html(self) -> str:
        """The advanced panel's markup. Unchanged filters (most searches leave them empty) give
        the same markup, drawn once per process for each set of steps, colleges and values."""
        colleges = college_choices()
        if self.colleges is not None:
            colleges = tuple(c for c in colleges if c[0] in self.colleges)
        names = [name for name in self.fields if name != "q"]
        if any(name in self.errors for name in names):
            return render_to_string("desk/_panel.html", {"fields": self.panel(colleges)})
        values = tuple((name, self.data.get(name, "") or "") for name in names)
        steps = tuple((s.id, s.title) for s in self.steps)
        return _panel_markup(steps, colleges, values, translation.get_language())

    def panel(self, colleges: tuple) -> list[dict]:
        """The advanced fields as plain data: the template draws them without Django's widget
        templates, which cost more than the whole search at 50,000 students. colleges: the
        (id, name) options offered (panel_html passes the cached, scope-limited list)."""
        out = []
        for name, field in self.fields.items():
            if name == "q":
                continue
            value = self.data.get(name, "") or ""
            item = {
                "name": name,
                "label": field.label,
                "value": value,
                "id": f"id_{name}",
                "errors": self.errors.get(name, []) if self.is_bound else [],
            }
            if isinstance(field, forms.ModelChoiceField):
                choices = [*ANY, *colleges]
                item["options"] = _options(choices, value)
            elif isinstance(field, forms.ChoiceField):
                item["options"] = _options(field.choices, value)
            out.append(item)
        return out

    @property
    def advanced(self) -> bool:
        """Whether any filter beyond the one box is set (the advanced panel opens)."""
        data = self.data
        return any(data.get(k) for k in FILTER_KEYS[1:]) or any(
            data.get(f"s{s.id}") for s in self.steps
        )


@lru_cache(maxsize=256)
def _panel_markup(steps: tuple, colleges: tuple, values: tuple, language: str) -> str:
    """language: part of the key only (labels are drawn in the request's language)."""
    form = SearchForm(dict(values), [SimpleNamespace(id=sid, title=title) for sid, title in steps])
    return render_to_string("desk/_panel.html", {"fields": form.panel(colleges)})


def _options(choices, value: str) -> str:
    """<option>s as escaped markup: a template loop over them costs more than the search."""
    return mark_safe(  # noqa: S308 - every value and label is escaped in _escaped
        "".join(
            f'<option value="{v}" selected>{label}</option>'
            if raw == value
            else f'<option value="{v}">{label}</option>'
            for raw, v, label in _escaped(tuple((v, str(label)) for v, label in choices))
        )
    )


@lru_cache(maxsize=64)
def _escaped(choices: tuple) -> tuple:
    """(raw value, escaped value, escaped label) per choice; the fixed lists are escaped once.

    Labels arrive as plain strings in the request's language, so each language has its own entry.
    """
    return tuple((str(v), escape(v), escape(label)) for v, label in choices)


def query_string(data: QueryDict) -> str:
    """The search's own parameters (no page), for pagination, export and 'all matching'."""
    kept = data.copy()
    for key in ("page", "csrfmiddlewaretoken"):
        kept.pop(key, None)
    return kept.urlencode()
