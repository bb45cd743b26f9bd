"""The settings form of a plan, shared by the console (office) and the desk (the department)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lixiao.appointments import rules
from lixiao.appointments.models import Plan
from lixiao.appointments.services import PlanData
from lixiao.ui import BootstrapMixin

WEEKDAYS = [
    _("周一"),
    _("周二"),
    _("周三"),
    _("周四"),
    _("周五"),
    _("周六"),
    _("周日"),
]
DEFAULT_HOURS = ["8:30-11:30, 14:00-17:00"] * 5 + ["", ""]


class PlanForm(BootstrapMixin, forms.Form):
    enabled = forms.BooleanField(label=_("开放预约"), required=False, initial=True)
    slot_minutes = forms.IntegerField(
        label=_("每个时段（分钟）"),
        min_value=rules.MIN_SLOT_MINUTES,
        max_value=rules.MAX_SLOT_MINUTES,
        initial=30,
    )
    capacity = forms.IntegerField(
        label=_("每个时段可约人数"),
        min_value=rules.MIN_CAPACITY,
        max_value=rules.MAX_CAPACITY,
        initial=5,
    )
    days_ahead = forms.IntegerField(
        label=_("可提前预约天数"),
        min_value=0,
        max_value=rules.MAX_DAYS_AHEAD,
        initial=7,
        help_text=_("0 表示只能预约当天"),
    )
    closed_dates = forms.CharField(
        label=_("不开放日期"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如 2026-06-20，多个日期用逗号或换行分隔"),
    )

    def __init__(self, *args, plan: Plan | None = None, **kwargs):
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = initial(plan)
        super().__init__(*args, **kwargs)
        for index, label in enumerate(WEEKDAYS):
            self.fields[f"day{index}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                initial=DEFAULT_HOURS[index],
                widget=forms.TextInput(attrs={"placeholder": _("不开放")}),
            )
        self.order_fields(["enabled", *(f"day{i}" for i in range(7))])
        for name in ("slot_minutes", "capacity", "days_ahead"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        self.hours: list = []

    def day_fields(self):
        return [self[f"day{i}"] for i in range(7)]

    def clean(self):
        data = super().clean()
        self.hours = []
        for index in range(7):
            try:
                self.hours.append(rules.parse_periods(data.get(f"day{index}", "")))
            except rules.PlanError as error:
                self.add_error(f"day{index}", str(error))
                self.hours.append([])
        try:
            data["closed_list"] = rules.parse_dates(data.get("closed_dates", ""))
        except rules.PlanError as error:
            self.add_error("closed_dates", str(error))
        return data

    def plan_data(self) -> PlanData:
        data = self.cleaned_data
        return PlanData(
            enabled=data["enabled"],
            slot_minutes=data["slot_minutes"],
            capacity=data["capacity"],
            days_ahead=data["days_ahead"],
            hours=self.hours,
            closed_dates=data["closed_list"],
        )


def initial(plan: Plan) -> dict:
    values = {
        "enabled": plan.enabled,
        "slot_minutes": plan.slot_minutes,
        "capacity": plan.capacity,
        "days_ahead": plan.days_ahead,
        "closed_dates": "\n".join(plan.closed_dates or []),
    }
    for index, periods in enumerate(plan.periods()):
        values[f"day{index}"] = rules.format_periods(periods)
    return values
