"""The one gate (Rule 4) by property: for random grants and forms, the in-memory answers (may
read, may handle, who handles) equal the SQL filters the lists and the writer use."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lixiao.clearance import scope
from lixiao.clearance.models import Batch, Form, Grant, Scope, Step

pytestmark = pytest.mark.django_db

PEOPLE = ("counselor_cs", "counselor_lit", "library", "dorm", "outsider")
TITLES = ("图书馆", "学生公寓", "组织关系转移", "院系离校")
DAYS = st.sampled_from([None, -3, 0, 3])  # relative to today: past, today, future, open


grant_specs = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.sampled_from(TITLES),
        st.sampled_from([Scope.SCHOOL, Scope.COLLEGE, Scope.MINE]),
        st.sampled_from(["cs", "lit"]),
        DAYS,  # starts
        DAYS,  # ends
        st.booleans(),  # a category default instead of a batch grant
    ),
    max_size=8,
)
counselors = st.lists(st.sampled_from([None, *PEOPLE]), min_size=3, max_size=3)


def _day(offset):
    return None if offset is None else timezone.localdate() + timedelta(days=offset)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=grant_specs, assigned=counselors, enabled=st.booleans())
def test_in_memory_answers_equal_the_sql_filters(uni, specs, assigned, enabled):
    with transaction.atomic():
        Grant.objects.filter(batch=uni.batch).delete()
        Batch.objects.filter(pk=uni.batch.pk).update(enabled=enabled)
        people = {name: getattr(uni, name) for name in PEOPLE}
        forms = [uni.form, uni.form_lit, uni.form_cs2]
        for form, who in zip(forms, assigned, strict=True):
            Form.objects.filter(pk=form.pk).update(counselor=people[who] if who else None)
        steps = {s.title: s for s in Step.objects.filter(category=uni.category)}
        for who, title, kind, college, starts, ends, default in specs:
            Grant.objects.get_or_create(
                batch=None if default else uni.batch,
                step=steps[title],
                user=people[who],
                scope=kind,
                college=getattr(uni, college) if kind == Scope.COLLEGE else None,
                defaults={"starts_on": _day(starts), "ends_on": _day(ends)},
            )
        rows = list(
            Form.objects.filter(batch=uni.batch).values_list("id", "college_id", "counselor_id")
        )
        expected_handlers: dict[int, dict[int, set[int]]] = {s.id: {} for s in steps.values()}
        for name, user in people.items():
            reach = scope.reach(user, uni.batch.id)
            if reach is None:
                continue  # no grant in force here: they handle nothing (checked below)
            in_sql = set(reach.forms().values_list("id", flat=True))
            assert in_sql == {fid for fid, c, k in rows if reach.may_read(c, k)}, name
            for step in reach.steps:
                handled = set(
                    Form.objects.filter(reach.handle_filter(step)).values_list("id", flat=True)
                )
                assert handled == {fid for fid, c, k in rows if reach.may_handle(step, c, k)}
                # The writer's own question, asked without the whole reach: the same answer.
                writer = scope.handle_filter(user, uni.batch, step)
                assert set(Form.objects.filter(writer).values_list("id", flat=True)) == handled
                assert handled <= in_sql  # whoever handles a step on a form may read it
                if handled:
                    expected_handlers[step.id][user.id] = handled
        for step in steps.values():
            assert scope.handlers(uni.batch, step.id, rows) == expected_handlers[step.id]
            for name, user in people.items():  # no grant in force on this step: nothing to handle
                if user.id not in expected_handlers[step.id]:
                    writer = Form.objects.filter(scope.handle_filter(user, uni.batch, step))
                    assert not writer.exists(), name
        transaction.set_rollback(True)


def test_the_office_reaches_every_form_even_in_a_disabled_batch(uni):
    Batch.objects.filter(pk=uni.batch.pk).update(enabled=False)
    reach = scope.reach(uni.office, uni.batch.id)
    assert reach.office and set(reach.forms()) == {uni.form, uni.form_lit, uni.form_cs2}
    assert scope.reach(uni.library, uni.batch.id) is None


def test_a_grant_outside_its_dates_reaches_nothing(uni):
    grant = Grant.objects.get(batch=uni.batch, user=uni.library)
    grant.ends_on = timezone.localdate() - timedelta(days=1)
    grant.save()
    assert scope.reach(uni.library, uni.batch.id) is None
    yesterday = timezone.localdate() - timedelta(days=1)
    assert scope.reach(uni.library, uni.batch.id, day=yesterday) is not None
