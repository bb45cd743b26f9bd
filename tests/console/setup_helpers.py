"""Helpers shared by the console set-up tests (part A): logins, POSTs with management forms."""

from lixiao.clearance.models import Event
from tests import factories as f


def auditor():
    return f.staff("AU0001", "审计管理员", is_auditor=True)


def step_post(**fields) -> dict:
    """A step form POST with an empty condition builder unless `conditions` is given."""
    conditions = fields.pop("conditions", [])
    data = {"owner_type": "department", "required": "on", "precedence": "source", **fields}
    data.update(
        {
            "cond-TOTAL_FORMS": str(len(conditions) + 1),
            "cond-INITIAL_FORMS": "0",
            "cond-MIN_NUM_FORMS": "0",
            "cond-MAX_NUM_FORMS": "1000",
        }
    )
    data[f"cond-{len(conditions)}-op"] = "in"  # the blank row's select, as a browser posts it
    for i, clause in enumerate(conditions):
        data[f"cond-{i}-attr"], data[f"cond-{i}-op"], data[f"cond-{i}-values"] = clause
    data = {k: v for k, v in data.items() if v is not False}
    return data


def last_event(action: str) -> Event:
    return Event.objects.filter(action=action).order_by("-id").first()
