"""No N+1: the set-up lists cost the same number of queries with more rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lixiao.clearance.models import Grant, OwnerType, Step
from lixiao.directory.models import Department
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def queries_for(client, url) -> int:
    client.get(
        url
    )  # the first request of a session also refreshes the session: not the page's cost
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_category_list(uni):
    client = client_for(uni.office)
    url = reverse("console:category_list")
    before = queries_for(client, url)
    for i in range(4):
        f.category(name=f"类别{i}")
    assert queries_for(client, url) == before


def test_step_list_on_the_category_page(uni):
    client = client_for(uni.office)
    url = reverse("console:category", args=[uni.category.pk])
    before = queries_for(client, url)
    dept = Department.objects.create(code="X", name="新部门")
    for i in range(5):
        Step.objects.create(
            category=uni.category,
            title=f"新环节{i}",
            owner_type=OwnerType.DEPARTMENT,
            department=dept,
            order=10 + i,
            condition=[f.PARTY],
        )
    assert queries_for(client, url) == before


def test_grants_table(uni):
    client = client_for(uni.office)
    url = reverse("console:batch_grants", args=[uni.batch.pk])
    before = queries_for(client, url)
    for i in range(6):
        user = f.staff(f"N{i:04d}", f"新老师{i}", college=uni.cs)
        Grant.objects.create(
            batch=uni.batch,
            step=Step.objects.get(category=uni.category, title="院系离校"),
            user=user,
            scope="college",
            college=uni.lit if i % 2 else uni.cs,
        )
    assert queries_for(client, url) == before


def test_batch_list(uni):
    client = client_for(uni.office)
    url = reverse("console:batch_list")
    before = queries_for(client, url)
    for i in range(4):
        b = f.batch(uni.category, name=f"批次{i}")
        f.grant(b, "图书馆", uni.library)
        f.enrolled(b, f"20230000{i:02d}", f"学生{i}", uni.cs)
    assert queries_for(client, url) == before
