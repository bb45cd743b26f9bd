"""The pure rules by property: applicability, the final gate, completion, re-evaluation (Rules 1-3)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lixiao.clearance import rules
from lixiao.clearance.rules import NOT_REQUIRED, PASSED, PENDING, Refused, StepInfo
from lixiao.directory import codes

RULES = ("required", "all")


@st.composite
def forms(draw):
    """A category's steps (at most one final) and one form's applicability of each."""
    n = draw(st.integers(min_value=1, max_value=7))
    required = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    final_at = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=n - 1)))
    applicable = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    steps = [
        StepInfo(id=100 + i, title=f"环节{i}", required=required[i], is_final=(i == final_at))
        for i in range(n)
    ]
    states = {s.id: PENDING if applicable[i] else NOT_REQUIRED for i, s in enumerate(steps)}
    return steps, states


operations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6), st.sampled_from([PASSED, PENDING, NOT_REQUIRED])
    ),
    max_size=40,
)


def invariant_holds(steps, states) -> bool:
    """Rule 2: a passed final step never coexists with a pending required applicable step."""
    final = rules.final_step(steps)
    if final is None or states[final.id] != PASSED:
        return True
    return not any(s.required and not s.is_final and states[s.id] == PENDING for s in steps)


def complete_by_definition(rule, steps, states) -> bool:
    counted = [s for s in steps if states[s.id] != NOT_REQUIRED and (rule == "all" or s.required)]
    return all(states[s.id] == PASSED for s in counted)


def apply(states, changes) -> dict:
    after = dict(states)
    for change in changes:
        assert after[change.step_id] == change.from_state, (
            "a change must start from the current state"
        )
        after[change.step_id] = change.to_state
    return after


@settings(max_examples=300)
@given(forms(), operations)
def test_any_sequence_of_pass_and_revoke_keeps_the_rules(form, ops):
    steps, states = form
    grey = {sid for sid, state in states.items() if state == NOT_REQUIRED}
    for index, to_state in ops:
        step = steps[index % len(steps)]
        try:
            changes = rules.plan_change(steps, states, step.id, to_state)
        except Refused as refusal:
            # A refusal is explained, and only for the reasons the rules name.
            assert str(refusal)
            if refusal.code == "gate":
                assert step.is_final and to_state == PASSED
                assert {b.id for b in refusal.blockers} == {
                    b.id for b in rules.gate_blockers(steps, states)
                }
                assert all(b.title in str(refusal) for b in refusal.blockers)
            elif refusal.code == "not_applicable":
                assert states[step.id] == NOT_REQUIRED
            else:
                assert refusal.code == "bad_state" and to_state == NOT_REQUIRED
            continue
        assert to_state != NOT_REQUIRED and states[step.id] != NOT_REQUIRED
        states = apply(states, changes)
        assert states[step.id] == to_state
        assert [c for c in changes if not c.cascade][:1] == changes[
            :1
        ]  # the asked change comes first
        for rule in RULES:
            assert rules.is_complete(rule, steps, states) == complete_by_definition(
                rule, steps, states
            )
        assert invariant_holds(steps, states)
        assert {sid for sid, state in states.items() if state == NOT_REQUIRED} == grey


@settings(max_examples=200)
@given(forms(), operations, st.data())
def test_reapply_puts_every_step_where_its_condition_says(form, ops, data):
    steps, states = form
    for index, to_state in ops:  # reach any state the writer could have reached
        try:
            states = apply(
                states, rules.plan_change(steps, states, steps[index % len(steps)].id, to_state)
            )
        except Refused:
            pass
    applicable = {s.id: data.draw(st.booleans()) for s in steps}
    after = apply(states, rules.plan_reapply(steps, states, applicable))
    for s in steps:
        assert (after[s.id] == NOT_REQUIRED) == (not applicable[s.id])
        if (
            applicable[s.id]
            and states[s.id] != NOT_REQUIRED
            and not (s.is_final and after[s.id] == PENDING)
        ):
            assert after[s.id] == states[s.id]  # an applicable step keeps its state …
    assert invariant_holds(steps, after)  # … except a final whose gate no longer holds


def test_gate_refuses_and_names_only_the_pending_required_steps():
    steps = [
        StepInfo(1, "图书馆", True, False),
        StepInfo(2, "校友会登记", False, False),
        StepInfo(3, "组织关系转移", True, False),
        StepInfo(4, "财务处", True, False),
        StepInfo(5, "院系离校", True, True),
    ]
    states = {1: PENDING, 2: PENDING, 3: NOT_REQUIRED, 4: PASSED, 5: PENDING}
    with pytest.raises(Refused) as exc:
        rules.plan_change(steps, states, 5, PASSED)
    assert exc.value.code == "gate"
    assert "图书馆" in str(exc.value)
    assert "校友会登记" not in str(exc.value) and "组织关系转移" not in str(exc.value)
    assert "财务处" not in str(exc.value)
    states[1] = PASSED  # the optional and the grey step do not hold the final back
    assert rules.plan_change(steps, states, 5, PASSED) == [rules.Change(5, PENDING, PASSED)]


def test_revoking_a_required_prerequisite_reopens_a_passed_final():
    steps = [
        StepInfo(1, "图书馆", True, False),
        StepInfo(2, "校友会登记", False, False),
        StepInfo(3, "院系离校", True, True),
    ]
    states = {1: PASSED, 2: PASSED, 3: PASSED}
    assert rules.plan_change(steps, states, 1, PENDING) == [
        rules.Change(1, PASSED, PENDING),
        rules.Change(3, PASSED, PENDING, cascade=True),
    ]
    # An optional step is no prerequisite; the final itself revokes alone.
    assert rules.plan_change(steps, states, 2, PENDING) == [rules.Change(2, PASSED, PENDING)]
    assert rules.plan_change(steps, states, 3, PENDING) == [rules.Change(3, PASSED, PENDING)]
    assert rules.plan_change(steps, states, 1, PASSED) == []


def test_completion_rules_differ_on_an_optional_pending_step():
    steps = [
        StepInfo(1, "图书馆", True, False),
        StepInfo(2, "校友会登记", False, False),
        StepInfo(3, "组织关系转移", True, False),
    ]
    states = {1: PASSED, 2: PENDING, 3: NOT_REQUIRED}
    assert rules.is_complete("required", steps, states)
    assert not rules.is_complete("all", steps, states)
    states[2] = PASSED
    assert rules.is_complete("all", steps, states)


def test_applies_with_each_operator():
    party = {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}
    undergrad = {"attr": "student_type", "op": "eq", "values": ["本科生"]}
    not_lit = {"attr": "college", "op": "not_in", "values": ["LIT"]}
    member = {"political_status": "中共党员", "student_type": "本科生", "college": "CS"}
    assert rules.applies([], member)
    assert rules.applies([party], member)
    assert not rules.applies([party], {**member, "political_status": "群众"})
    assert not rules.applies([party], {})  # a missing attribute is not a match
    assert rules.applies([undergrad], member)
    assert not rules.applies([undergrad], {**member, "student_type": "硕士研究生"})
    assert rules.applies([not_lit], member)
    assert not rules.applies([not_lit], {**member, "college": "LIT"})
    assert rules.applies([not_lit], {})  # nobody's college is LIT when none is known
    assert rules.applies([party, undergrad, not_lit], member)
    assert not rules.applies(
        [party, undergrad, not_lit], {**member, "college": "LIT"}
    )  # all must hold
    assert rules.initial_state([party], member) == PENDING
    assert rules.initial_state([party], {"political_status": "群众"}) == NOT_REQUIRED


def test_describe_says_who_a_step_is_for():
    party = {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}
    not_lit = {"attr": "college", "op": "not_in", "values": ["LIT"]}
    assert rules.describe([party]) == "仅适用于政治面貌为 中共党员、中共预备党员的学生"
    assert (
        rules.describe([party, not_lit])
        == "仅适用于政治面貌为 中共党员、中共预备党员且院系代码不为 LIT的学生"
    )
    assert rules.describe([]) == ""


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"attr": "political_status"}, "条件列表"),
        (["political_status"], "attr、op、values"),
        ([{"attr": "height", "op": "eq", "values": ["180"]}], "未知的学生属性"),
        ([{"attr": "gender", "op": "gt", "values": ["男"]}], "未知的运算"),
        ([{"attr": "gender", "op": "eq", "values": []}], "非空的文字列表"),
        ([{"attr": "gender", "op": "eq", "values": "男"}], "非空的文字列表"),
        ([{"attr": "gender", "op": "eq", "values": [1]}], "非空的文字列表"),
    ],
)
def test_validate_condition_says_what_to_fix(condition, words):
    with pytest.raises(rules.ConditionError, match=words):
        rules.validate_condition(condition)


def test_validate_condition_accepts_a_good_condition():
    rules.validate_condition([{"attr": "political_status", "op": "in", "values": ["中共党员"]}])
    rules.validate_condition([])


def test_a_step_becoming_applicable_sends_a_passed_final_back_to_pending():
    steps = [
        StepInfo(1, "图书馆", True, False),
        StepInfo(2, "组织关系转移", True, False),
        StepInfo(3, "院系离校", True, True),
    ]
    states = {1: PASSED, 2: NOT_REQUIRED, 3: PASSED}
    changes = rules.plan_reapply(steps, states, {1: True, 2: True, 3: True})
    assert changes == [
        rules.Change(2, NOT_REQUIRED, PENDING),
        rules.Change(3, PASSED, PENDING, cascade=True),
    ]
    # Becoming applicable as an optional step holds nothing back.
    optional = [
        StepInfo(1, "图书馆", True, False),
        StepInfo(2, "校友会登记", False, False),
        StepInfo(3, "院系离校", True, True),
    ]
    assert rules.plan_reapply(optional, states, {1: True, 2: True, 3: True}) == [
        rules.Change(2, NOT_REQUIRED, PENDING)
    ]
    # Ceasing to apply makes a step grey whatever its state; nothing else moves.
    assert rules.plan_reapply(
        steps, {1: PASSED, 2: PASSED, 3: PASSED}, {1: True, 2: False, 3: True}
    ) == [rules.Change(2, PASSED, NOT_REQUIRED)]


# GB/T 4762 groups in conditions: 中共党员（含预备党员）and 民主党派 stand for their members.

STATUSES = st.sampled_from([*codes.POLITICAL_STATUSES, codes.LEGACY_POLITICAL_STATUS, ""])
NAMES_AND_GROUPS = st.lists(
    st.sampled_from([*codes.POLITICAL_STATUSES, *codes.POLITICAL_GROUPS]),
    min_size=1,
    max_size=4,
    unique=True,
)


def stands_for(values) -> set[str]:
    """Every stored status the named values reach: a name itself; a group its members and the
    pre-GB/T stored value of the same name."""
    reached = set(values)
    for value in values:
        reached |= codes.POLITICAL_GROUPS.get(value, set())
    return reached


@settings(max_examples=300)
@given(STATUSES, NAMES_AND_GROUPS, st.sampled_from(["eq", "in", "not_in"]))
def test_a_condition_naming_groups_reaches_exactly_their_members(status, values, op):
    clause = {"attr": "political_status", "op": op, "values": values}
    named = values[:1] if op == "eq" else values
    reached = status in stands_for(named)
    expected = not reached if op == "not_in" else reached
    assert rules.applies([clause], {"political_status": status}) == expected
    assert rules.initial_state([clause], {"political_status": status}) == (
        PENDING if expected else NOT_REQUIRED
    )


@settings(max_examples=200)
@given(STATUSES, st.sampled_from(list(codes.POLITICAL_GROUPS)), st.sampled_from(["in", "not_in"]))
def test_a_group_is_the_same_as_listing_its_members(status, group, op):
    by_group = [{"attr": "political_status", "op": op, "values": [group]}]
    by_list = [
        {"attr": "political_status", "op": op, "values": sorted(codes.POLITICAL_GROUPS[group])}
    ]
    attributes = {"political_status": status}
    if status == group:  # the old catch-all value is reached by its group only
        assert rules.applies(by_group, attributes) != rules.applies(by_list, attributes)
    else:
        assert rules.applies(by_group, attributes) == rules.applies(by_list, attributes)


def test_groups_reach_the_members_a_person_expects():
    party = [{"attr": "political_status", "op": "in", "values": ["中共党员（含预备党员）"]}]
    democratic = [{"attr": "political_status", "op": "in", "values": ["民主党派"]}]
    for status in ("中共党员", "中共预备党员"):
        assert rules.applies(party, {"political_status": status})
        assert not rules.applies(democratic, {"political_status": status})
    for status in ("民革会员", "民盟盟员", "九三学社社员", "台盟盟员", "民主党派"):
        assert rules.applies(democratic, {"political_status": status})
        assert not rules.applies(party, {"political_status": status})
    for status in ("共青团员", "无党派民主人士", "群众", ""):
        assert not rules.applies(party, {"political_status": status})
        assert not rules.applies(democratic, {"political_status": status})
    # Groups belong to political status only: another attribute compares words as before.
    assert not rules.applies(
        [{"attr": "major", "op": "in", "values": ["民主党派"]}], {"major": "民盟盟员"}
    )
    assert rules.describe(party) == "仅适用于政治面貌为 中共党员（含预备党员）的学生"
