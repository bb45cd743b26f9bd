"""Pure rules of a departure form: applicability, the final gate, completion. No I/O."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NOT_REQUIRED, PENDING, PASSED = "not_required", "pending", "passed"

CONDITION_ATTRIBUTES = {
    "student_type": "学生类别",
    "political_status": "政治面貌",
    "college": "院系代码",
    "major": "专业",
    "gender": "性别",
    "dormitory": "宿舍",
}
OPERATORS = {"eq": "等于", "in": "属于", "not_in": "不属于"}


class ConditionError(ValueError):
    """A condition that cannot be evaluated; the message says what to fix."""


def validate_condition(condition: list) -> None:
    if not isinstance(condition, list):
        raise ConditionError("适用条件应为条件列表")
    for clause in condition:
        if not isinstance(clause, dict):
            raise ConditionError("每个适用条件应包含 attr、op、values")
        if clause.get("attr") not in CONDITION_ATTRIBUTES:
            raise ConditionError(f"未知的学生属性：{clause.get('attr')!r}")
        if clause.get("op") not in OPERATORS:
            raise ConditionError(f"未知的运算：{clause.get('op')!r}（可用：等于、属于、不属于）")
        values = clause.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise ConditionError("适用条件的取值应为非空的文字列表")


def applies(condition: Sequence[Mapping], attributes: Mapping[str, str]) -> bool:
    """True when every clause holds (an empty condition applies to everybody)."""
    for clause in condition:
        value = attributes.get(clause["attr"], "") or ""
        values = clause["values"]
        op = clause["op"]
        if op == "eq" and value != values[0]:
            return False
        if op == "in" and value not in values:
            return False
        if op == "not_in" and value in values:
            return False
    return True


def describe(condition: Sequence[Mapping]) -> str:
    """The condition in words, e.g. for a grey step: why it does not apply."""
    parts = []
    for clause in condition:
        name = CONDITION_ATTRIBUTES.get(clause["attr"], clause["attr"])
        values = "、".join(clause["values"])
        if clause["op"] == "not_in":
            parts.append(f"{name}不为 {values}")
        else:
            parts.append(f"{name}为 {values}")
    return "仅适用于" + "且".join(parts) + "的学生" if parts else ""


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
        s for s in steps
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


def plan_change(steps: Sequence[StepInfo], states: Mapping[int, str], step_id: int, to_state: str) -> list[Change]:
    """The changes one pass/revoke makes on one form, or Refused. [] means already so."""
    by_id = {s.id: s for s in steps}
    step = by_id[step_id]
    current = states[step_id]
    if to_state not in (PENDING, PASSED):
        raise Refused("只能办理通过或撤销", "bad_state")
    if current == NOT_REQUIRED:
        raise Refused(f"“{step.title}”对该学生无需办理", "not_applicable")
    if current == to_state:
        return []
    if to_state == PASSED and step.is_final:
        blockers = gate_blockers(steps, states)
        if blockers:
            names = "、".join(b.title for b in blockers)
            raise Refused(f"“{step.title}”须在其他必办环节全部通过后办理，尚未通过：{names}", "gate", blockers)
    changes = [Change(step_id, current, to_state)]
    final = final_step(steps)
    if to_state == PENDING and final and final.id != step_id and step.required and states[final.id] == PASSED:
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
