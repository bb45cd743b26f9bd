"""Pure rules of a departure form: applicability, the final gate, completion. No I/O."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from lixiao.directory.codes import VALUE_GROUPS

NOT_REQUIRED, PENDING, PASSED = "not_required", "pending", "passed"

# Keys are what conditions store; values are display labels (lazy: shown in the reader's language).
CONDITION_ATTRIBUTES = {
    "student_type": gettext_lazy("学生类别"),
    "political_status": gettext_lazy("政治面貌"),
    "college": gettext_lazy("院系代码"),
    "major": gettext_lazy("专业"),
    "gender": gettext_lazy("性别"),
    "dormitory": gettext_lazy("宿舍"),
}
OPERATORS = {
    "eq": gettext_lazy("等于"),
    "in": gettext_lazy("属于"),
    "not_in": gettext_lazy("不属于"),
}


def join_names(names) -> str:
    """Names (step titles, values: data, never translated) as a list in the active language."""
    return pgettext("list separator", "、").join(names)


class ConditionError(ValueError):
    """A condition that cannot be evaluated; the message says what to fix."""


def validate_condition(condition: list) -> None:
    if not isinstance(condition, list):
        raise ConditionError(_("适用条件应为条件列表"))
    for clause in condition:
        if not isinstance(clause, dict):
            raise ConditionError(_("每个适用条件应包含 attr、op、values"))
        if clause.get("attr") not in CONDITION_ATTRIBUTES:
            raise ConditionError(_("未知的学生属性：%(attr)s") % {"attr": repr(clause.get("attr"))})
        if clause.get("op") not in OPERATORS:
            raise ConditionError(
                _("未知的运算：%(op)s（可用：等于、属于、不属于）") % {"op": repr(clause.get("op"))}
            )
        values = clause.get("values")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ConditionError(_("适用条件的取值应为非空的文字列表"))


def _in_group(groups: Mapping[str, frozenset], value: str, values: Sequence[str]) -> bool:
    """The value belongs to a group one of the values names (政治面貌: 民主党派 …)."""
    for v in values:
        members = groups.get(v)
        if members is not None and value in members:
            return True
    return False


def applies(condition: Sequence[Mapping], attributes: Mapping[str, str]) -> bool:
    """True when every clause holds (an empty condition applies to everybody).

    A value may name a group (lixiao.directory.codes.VALUE_GROUPS): it stands for its members.
    """
    for clause in condition:
        attribute = clause["attr"]
        value = attributes.get(attribute, "") or ""
        values = clause["values"]
        if clause["op"] == "eq":
            values = values[:1]
        hit = value in values
        if not hit and attribute in VALUE_GROUPS:  # the word itself first: the common case
            hit = _in_group(VALUE_GROUPS[attribute], value, values)
        if hit == (clause["op"] == "not_in"):
            return False
    return True


def describe(condition: Sequence[Mapping]) -> str:
    """The condition in words, e.g. for a grey step: why it does not apply."""
    parts = []
    for clause in condition:
        words = {
            "attribute": CONDITION_ATTRIBUTES.get(clause["attr"], clause["attr"]),
            # The values are data (中共党员 …): joined, never translated.
            "values": pgettext("condition values", "、").join(clause["values"]),
        }
        if clause["op"] == "not_in":
            parts.append(_("%(attribute)s不为 %(values)s") % words)
        else:
            parts.append(_("%(attribute)s为 %(values)s") % words)
    if not parts:
        return ""
    return _("仅适用于%(conditions)s的学生") % {
        "conditions": pgettext("condition clauses", "且").join(parts)
    }


def initial_state(condition: Sequence[Mapping], attributes: Mapping[str, str]) -> str:
    return PENDING if applies(condition, attributes) else NOT_REQUIRED


@dataclass(frozen=True)
class StepInfo:
    id: int
    title: str
    required: bool
    is_final: bool


def gate_blockers(steps: Sequence[StepInfo], states: Mapping[int, str]) -> list[StepInfo]:
    """Required applicable steps other than the final one that are not yet passed."""
    return [
        s
        for s in steps
        if not s.is_final and s.required and states[s.id] != NOT_REQUIRED and states[s.id] != PASSED
    ]


def is_complete(rule: str, steps: Sequence[StepInfo], states: Mapping[int, str]) -> bool:
    """`required`: every required applicable step passed; `all`: every applicable step passed."""
    for s in steps:
        state = states[s.id]
        if state == NOT_REQUIRED:
            continue
        if (rule == "all" or s.required) and state != PASSED:
            return False
    return True


def final_step(steps: Sequence[StepInfo]) -> StepInfo | None:
    return next((s for s in steps if s.is_final), None)


class Refused(Exception):
    """A change the rules do not allow; str() is the sentence shown to the person."""

    def __init__(self, message: str, code: str, blockers: Sequence[StepInfo] = ()):
        super().__init__(message)
        self.code = code
        self.blockers = list(blockers)


@dataclass(frozen=True)
class Change:
    step_id: int
    from_state: str
    to_state: str
    cascade: bool = False  # a consequence of another change (the final step returning to pending)


def plan_change(
    steps: Sequence[StepInfo], states: Mapping[int, str], step_id: int, to_state: str
) -> list[Change]:
    """The changes one pass/revoke makes on one form, or Refused. [] means already so."""
    by_id = {s.id: s for s in steps}
    step = by_id[step_id]
    current = states[step_id]
    if to_state not in (PENDING, PASSED):
        raise Refused(_("只能办理通过或撤销"), "bad_state")
    if current == NOT_REQUIRED:
        raise Refused(_("“%(step)s”对该学生无需办理") % {"step": step.title}, "not_applicable")
    if current == to_state:
        return []
    if to_state == PASSED and step.is_final:
        blockers = gate_blockers(steps, states)
        if blockers:
            message = _("“%(step)s”须在其他必办环节全部通过后办理，尚未通过：%(pending)s") % {
                "step": step.title,
                "pending": join_names(b.title for b in blockers),
            }
            raise Refused(message, "gate", blockers)
    changes = [Change(step_id, current, to_state)]
    final = final_step(steps)
    if (
        to_state == PENDING
        and final
        and final.id != step_id
        and step.required
        and states[final.id] == PASSED
    ):
        changes.append(Change(final.id, PASSED, PENDING, cascade=True))
    return changes


def plan_reapply(
    steps: Sequence[StepInfo], states: Mapping[int, str], applicable: Mapping[int, bool]
) -> list[Change]:
    """Changes when applicability is re-evaluated (a student's attributes or a condition changed)."""
    changes = []
    new_states = dict(states)
    for s in steps:
        now = states[s.id]
        if applicable[s.id] and now == NOT_REQUIRED:
            new_states[s.id] = PENDING
        elif not applicable[s.id] and now != NOT_REQUIRED:
            new_states[s.id] = NOT_REQUIRED
        if new_states[s.id] != now:
            changes.append(Change(s.id, now, new_states[s.id]))
    final = final_step(steps)
    if final and new_states[final.id] == PASSED and gate_blockers(steps, new_states):
        changes.append(Change(final.id, PASSED, PENDING, cascade=True))
    return changes
