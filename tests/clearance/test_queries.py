"""Scoped reads (Rule 4): search, filters, who sees which forms, live statistics, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Batch, Form, Record, State, Step
from lixiao.clearance.queries import Filters
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


def readable(user, batch):
    """The forms the gate lets this person read in the batch (none without a reach there)."""
    reach = scope.reach(user, batch.id)
    return reach.forms() if reach else Form.objects.none()


def found(user, batch, **filters) -> set:
    reach = scope.reach(user, batch.id)
    if reach is None:
        return set()
    return set(queries.search(reach, Filters(**filters)).values_list("id", flat=True))


def statistics(user, batch):
    reach = scope.reach(user, batch.id)
    return queries.step_statistics(reach) if reach else []


def ids(*forms) -> set:
    return {form.id for form in forms}


def step_id(batch, title) -> int:
    return Step.objects.get(category_id=batch.category_id, title=title).id


def office_passes(uni, form, *titles):
    for title in titles:
        services.pass_record(
            services.Actor(user=uni.office, source="admin"), record(form, title).id
        )


# ---------------------------------------------------------------------------------------------
# search


def test_search_by_student_number_exact_and_prefix(uni):
    assert found(uni.office, uni.batch, q="2022000001") == ids(uni.form)
    assert found(uni.office, uni.batch, q="202200000") == ids(uni.form, uni.form_lit, uni.form_cs2)
    assert found(uni.office, uni.batch, q=" 2022000005 ") == ids(uni.form_cs2)
    assert found(uni.office, uni.batch, q="2023") == set()
    assert found(uni.office, uni.batch, q="22000001") == set()  # a prefix, not a substring


def test_search_by_name_contains(uni):
    assert found(uni.office, uni.batch, q="陈") == ids(uni.form)
    assert found(uni.office, uni.batch, q="同学") == ids(uni.form, uni.form_lit, uni.form_cs2)
    assert found(uni.office, uni.batch, q="王") == set()


def test_search_by_id_number_is_exact_through_its_hash(uni):
    assert found(uni.office, uni.batch, q=f.id_number(1)) == ids(uni.form)
    assert found(uni.office, uni.batch, q=f.id_number(3)) == ids(uni.form_lit)
    assert found(uni.office, uni.batch, q=f.id_number(99)) == set()  # valid, nobody's
    assert found(uni.office, uni.batch, q=f.id_number(1)[:6]) == set()  # part of an ID finds nobody
    assert found(uni.office, uni.batch, q=f.id_number(1)[-6:]) == set()
    x_form = f.enrolled(uni.batch, "2022000014", "许同学", uni.cs, seed=14)
    assert f.id_number(14).endswith("X")
    assert found(uni.office, uni.batch, q=f.id_number(14).lower()) == ids(x_form)


def test_search_by_id_number_stays_inside_scope(uni):
    assert found(uni.counselor_cs, uni.batch, q=f.id_number(3)) == set()
    assert found(uni.counselor_lit, uni.batch, q=f.id_number(3)) == ids(uni.form_lit)


def test_filters(uni):
    everyone = ids(uni.form, uni.form_lit, uni.form_cs2)
    assert found(uni.office, uni.batch, college_id=uni.cs.id) == ids(uni.form, uni.form_cs2)
    assert found(uni.office, uni.batch, student_type="本科生") == everyone
    assert found(uni.office, uni.batch, student_type="硕士研究生") == set()
    assert found(uni.office, uni.batch, political_status="中共党员") == ids(uni.form)
    party = step_id(uni.batch, "组织关系转移")
    assert found(uni.office, uni.batch, step_states={party: State.NOT_REQUIRED}) == ids(
        uni.form_lit, uni.form_cs2
    )
    office_passes(uni, uni.form, "图书馆")
    office_passes(uni, uni.form_lit, "图书馆", "财务处")
    library, finance = step_id(uni.batch, "图书馆"), step_id(uni.batch, "财务处")
    assert found(uni.office, uni.batch, step_states={library: State.PASSED}) == ids(
        uni.form, uni.form_lit
    )
    assert found(
        uni.office, uni.batch, step_states={library: State.PASSED, finance: State.PENDING}
    ) == ids(uni.form)
    assert found(uni.office, uni.batch, completed=True) == set()
    f.pass_prerequisites(uni.form_cs2, uni.office)
    office_passes(uni, uni.form_cs2, "院系离校")
    assert found(uni.office, uni.batch, completed=True) == ids(uni.form_cs2)
    assert found(uni.office, uni.batch, completed=False) == ids(uni.form, uni.form_lit)
    assert found(uni.office, uni.batch, q="同学", college_id=uni.cs.id, completed=False) == ids(
        uni.form
    )


def test_results_are_ordered_by_student_number(uni):
    forms = list(queries.search(scope.reach(uni.office, uni.batch.id), Filters()))
    assert [form.student.student_number for form in forms] == [
        "2022000001",
        "2022000003",
        "2022000005",
    ]


# ---------------------------------------------------------------------------------------------
# who sees what


def test_every_persona_sees_exactly_their_scope(uni):
    everyone = ids(uni.form, uni.form_lit, uni.form_cs2)
    expected = {
        uni.counselor_cs: ids(uni.form, uni.form_cs2),
        uni.counselor_lit: ids(uni.form_lit),
        uni.library: everyone,
        uni.finance: everyone,
        uni.dorm: everyone,
        uni.office: everyone,
        uni.outsider: set(),
        uni.student.user: set(),  # a student reads their own form through the portal, not here
    }
    for user, forms in expected.items():
        assert found(user, uni.batch) == forms, user
        assert set(readable(user, uni.batch).values_list("id", flat=True)) == forms, user


def test_a_disabled_batch_shows_handlers_nothing(uni):
    Batch.objects.filter(pk=uni.batch.pk).update(enabled=False)
    uni.batch.refresh_from_db()
    for user in (uni.counselor_cs, uni.counselor_lit, uni.library, uni.dorm):
        assert found(user, uni.batch) == set()
        assert statistics(user, uni.batch) == []
    assert found(uni.office, uni.batch) == ids(uni.form, uni.form_lit, uni.form_cs2)
    assert list(queries.student_forms(uni.student.user)) == []


def test_a_student_sees_only_their_own_form(uni):
    assert list(queries.student_forms(uni.student.user)) == [uni.form]
    assert list(queries.student_forms(uni.student_lit.user)) == [uni.form_lit]
    assert list(queries.student_forms(uni.counselor_cs)) == []


def test_form_detail_only_from_a_scoped_base(uni):
    mine = readable(uni.counselor_cs, uni.batch)
    detail = queries.form_detail(uni.form.id, mine)
    assert detail == uni.form
    assert [r.step.title for r in detail.records.all()][0] == "图书馆"
    assert queries.form_detail(uni.form_lit.id, mine) is None
    assert queries.form_detail(uni.form.id, readable(uni.outsider, uni.batch)) is None


@pytest.fixture
def my_students(uni):
    """A LIT counselor whose grant reaches only the students the roster assigns to her."""
    wang = f.staff("T1003", "王老师", college=uni.lit)
    for title in ("组织关系转移", "院系离校"):
        f.grant(uni.batch, title, wang, scope="mine")
    forms = [
        f.enrolled(
            uni.batch, "2022000011", "黄同学", uni.lit, counselor=wang, political="中共党员"
        ),
        f.enrolled(uni.batch, "2022000013", "何同学", uni.cs, counselor=wang),
    ]
    return wang, forms


def test_a_mine_grant_reaches_only_the_counselors_students(uni, my_students):
    wang, forms = my_students
    assert found(wang, uni.batch) == ids(*forms)
    assert found(wang, uni.batch, q="林") == set()  # a LIT student of another counselor
    assert found(uni.counselor_lit, uni.batch) == ids(uni.form_lit, forms[0])


# ---------------------------------------------------------------------------------------------
# live statistics


def recount_for(step, forms) -> tuple[int, int, int]:
    """(applicable, passed, pending) of a step over some forms, from the records themselves."""
    states = list(Record.objects.filter(step=step, form__in=forms).values_list("state", flat=True))
    passed, pending = states.count(State.PASSED), states.count(State.PENDING)
    return passed + pending, passed, pending


def assert_statistics(user, batch, reach: dict) -> None:
    """`reach`: step title → the forms the person's grants reach on that step."""
    stats = {s.step.title: (s.applicable, s.passed, s.pending) for s in statistics(user, batch)}
    expected = {
        title: recount_for(Step.objects.get(category_id=batch.category_id, title=title), forms)
        for title, forms in reach.items()
    }
    assert stats == expected


def test_statistics_per_persona_equal_a_recount_of_their_scope(uni, my_students):
    wang, wang_forms = my_students
    office_passes(uni, uni.form, "图书馆", "财务处", "组织关系转移")
    office_passes(uni, uni.form_lit, "图书馆")
    office_passes(uni, wang_forms[0], "组织关系转移", "图书馆")
    f.pass_prerequisites(wang_forms[1], uni.office)
    office_passes(uni, wang_forms[1], "院系离校")
    everyone = [uni.form, uni.form_lit, uni.form_cs2, *wang_forms]
    cs = [uni.form, uni.form_cs2, wang_forms[1]]
    lit = [uni.form_lit, wang_forms[0]]
    assert_statistics(uni.library, uni.batch, {"图书馆": everyone})
    assert_statistics(uni.dorm, uni.batch, {"学生公寓": everyone, "校友会登记": everyone})
    assert_statistics(uni.counselor_cs, uni.batch, {"组织关系转移": cs, "院系离校": cs})
    assert_statistics(uni.counselor_lit, uni.batch, {"组织关系转移": lit, "院系离校": lit})
    assert_statistics(wang, uni.batch, {"组织关系转移": wang_forms, "院系离校": wang_forms})
    assert_statistics(uni.outsider, uni.batch, {})
    titles = [s.title for s in Step.objects.filter(category=uni.category)]
    assert_statistics(uni.office, uni.batch, dict.fromkeys(titles, everyone))
    stats = {s.step.title: s for s in statistics(uni.office, uni.batch)}
    assert stats["图书馆"].passed == 4 and stats["图书馆"].percent == 80.0


def test_statistics_of_college_plus_mine_count_each_student_once(uni, my_students):
    wang, wang_forms = my_students
    # Wang also holds the college grant for LIT: her CS student comes on top, her LIT one is not doubled.
    f.grant(uni.batch, "院系离校", wang, scope="college", college=uni.lit)
    office_passes(uni, wang_forms[0], "组织关系转移")
    lit_and_mine = [uni.form_lit, *wang_forms]
    assert_statistics(wang, uni.batch, {"组织关系转移": wang_forms, "院系离校": lit_and_mine})
    assert found(wang, uni.batch) == ids(*lit_and_mine)


# ---------------------------------------------------------------------------------------------
# query counts


def first_page(user, batch) -> list:
    """What a result list shows: 20 forms with student, college and every step's state."""
    rows = []
    for form in queries.with_records(queries.search(scope.reach(user, batch.id), Filters()))[:20]:
        rows.append(
            (
                form.student.name,
                form.college.name,
                [(r.step.title, r.state) for r in form.records.all()],
            )
        )
    return rows


@pytest.mark.parametrize("persona", ["office", "counselor_cs", "library"])
def test_result_page_runs_the_same_queries_for_3_or_30_forms(uni, persona):
    user = getattr(uni, persona)
    with CaptureQueriesContext(connection) as few:
        small = first_page(user, uni.batch)
    more = [f.student(f"20230{n:05d}", f"批量{n}号", uni.cs, seed=n) for n in range(27)]
    f.enrol(uni.batch, more, counselor=uni.counselor_cs)
    with CaptureQueriesContext(connection) as many:
        large = first_page(user, uni.batch)
    assert len(large) == 20 and len(small) in (2, 3)
    assert all(len(steps) == 6 for _n, _c, steps in large)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 4
