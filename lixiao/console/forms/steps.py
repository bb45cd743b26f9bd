"""The step form and its applicability-condition builder (attribute, operator, values)."""

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from lixiao.clearance import rules
from lixiao.clearance.models import OwnerType, Step
from lixiao.clearance.services import steps
from lixiao.console.forms import split_values
from lixiao.directory import codes
from lixiao.ui import BootstrapMixin, DateInput


class StepForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Step
        fields = list(steps.FIELDS)  # what the core's service writes, nothing more
        widgets = {"deadline": DateInput(), "instructions": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "source": pgettext_lazy("one integration source", "集成表"),
            "department": _("所属部门"),
        }
        help_texts = {
            "owner_type": _(
                "学校部门：由该部门为全体学生办理；院系：由各院系人员为本院系学生办理。"
            ),
            "automatic": _("按集成表（如 集成表1 财务处、集成表2 图书馆）的数据自动通过或退回。"),
            "is_final": _("院系离校等最终环节：其他必办环节全部通过后才能办理；每个类别至多一个。"),
            "survey_bound": _("学生提交调查问卷时自动通过（需在学生服务设置中开启问卷）。"),
            "instructions": _("办理地点、时间、需携带的材料等，学生在离校单上可见。"),
        }

    def __init__(self, *args, category, **kwargs):
        self.category = category
        super().__init__(*args, **kwargs)
        self.fields["department"].empty_label = gettext("（请选择）")
        self.fields["source"].empty_label = gettext("（不自动办理）")

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        others = Step.objects.filter(category=self.category, title=title).exclude(
            pk=self.instance.pk
        )
        if others.exists():
            raise forms.ValidationError(gettext("本类别已有同名环节，请换一个标题。"))
        return title

    def clean(self):
        data = super().clean()
        owner = data.get("owner_type")
        if owner == OwnerType.DEPARTMENT and not data.get("department"):
            self.add_error("department", gettext("学校部门环节须选择所属部门。"))
        if owner == OwnerType.COLLEGE:
            data["department"] = None  # a college step belongs to every college, not one department
        if data.get("automatic") and not data.get("source"):
            self.add_error("source", gettext("自动办理的环节须选择集成表。"))
        if not data.get("automatic"):
            data["source"] = None
        if data.get("automatic") and data.get("survey_bound"):
            self.add_error("survey_bound", gettext("自动办理的环节不能同时设为“提交问卷即通过”。"))
        if data.get("is_final"):
            other = (
                Step.objects.filter(category=self.category, is_final=True)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if other:
                self.add_error(
                    "is_final",
                    gettext("本类别的最终环节已是“%(step)s”，每个类别至多一个最终环节。")
                    % {"step": other.title},
                )
        return data


class ConditionForm(BootstrapMixin, forms.Form):
    attr = forms.ChoiceField(
        label=_("学生属性"),
        choices=[("", _("（不限）")), *rules.CONDITION_ATTRIBUTES.items()],
        required=False,
    )
    op = forms.ChoiceField(
        label=_("运算"), choices=list(rules.OPERATORS.items()), initial="in", required=False
    )
    values = forms.CharField(
        label=_("取值"),
        required=False,
        help_text=_(
            "多个取值用顿号、逗号或换行分隔。政治面貌可填 GB/T 4762 的名称或代码（如 中共党员、01），"
            "或分组：中共党员（含预备党员）、民主党派；性别填 男 或 女。"
        ),
    )

    def clean(self):
        data = super().clean()
        attr, values = data.get("attr"), split_values(data.get("values", ""))
        if attr and not values:
            self.add_error("values", gettext("请填写至少一个取值。"))
        elif attr == "political_status":
            data["values_list"] = self._political(values)
        elif attr == "gender":
            data["values_list"] = self._gender(values)
        else:
            data["values_list"] = values
        return data

    def _political(self, values: list[str]) -> list[str]:
        """Codes become names (as rosters store them); a word rosters never store is refused:
        the step would silently apply to nobody."""
        names, unknown = [], []
        for value in values:
            name = value if value in codes.POLITICAL_GROUPS else codes.political_status(value)
            if name is None:
                unknown.append(value)
            elif name not in names:
                names.append(name)
        if unknown:
            self.add_error(
                "values",
                gettext(
                    "政治面貌没有“%(values)s”。请填写 GB/T 4762 的名称或代码（01 中共党员 … 13 群众），"
                    "或分组：%(groups)s。"
                )
                % {
                    "values": rules.join_names(unknown),
                    "groups": rules.join_names(codes.POLITICAL_GROUPS),
                },
            )
        return names

    def _gender(self, values: list[str]) -> list[str]:
        names = [codes.gender(v) for v in values]
        if not all(names):  # unknown, or 0/9 (stored as no gender: nothing to compare with)
            self.add_error("values", gettext("性别的取值应为 男 或 女（或代码 1、2）。"))
        return list(dict.fromkeys(n for n in names if n))

    def clause(self) -> dict | None:
        data = self.cleaned_data
        if not data or not data.get("attr") or data.get("DELETE"):
            return None
        values, op = data["values_list"], data.get("op") or "in"
        return {"attr": data["attr"], "op": op, "values": values[:1] if op == "eq" else values}


ConditionFormSet = forms.formset_factory(ConditionForm, extra=1, can_delete=True)


def condition_initial(condition: list) -> list[dict]:
    return [
        {"attr": c["attr"], "op": c["op"], "values": "、".join(c["values"])}
        for c in condition or []
    ]


def condition_from(formset) -> list[dict]:
    """The condition a valid formset describes, checked by the same rule the writer uses."""
    condition = [c for c in (f.clause() for f in formset.forms) if c]
    rules.validate_condition(condition)
    return condition
