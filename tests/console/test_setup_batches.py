"""Batches: basic data with checks a person can act on, the batch page, edits audited."""

import pytest
from django.urls import reverse

from lixiao.clearance.models import Batch
from tests.conftest import client_for
from tests.console.setup_helpers import last_event

pytestmark = pytest.mark.django_db


def batch_post(uni, **extra):
    data = {
        "name": "2027届研究生离校",
        "academic_year": "2026-2027",
        "student_type": "硕士研究生",
        "category": uni.category.pk,
        "opens_at": "2027-06-01T08:00",
        "closes_at": "2027-07-15T18:00",
        "description": "研究生毕业离校",
        "enabled": "on",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_bad_academic_year_and_window_are_explained(uni):
    page = (
        client_for(uni.office)
        .post(
            reverse("console:batch_create"),
            batch_post(uni, academic_year="2026-2028", closes_at="2027-05-01T08:00"),
        )
        .content.decode()
    )
    assert "学年格式应为“2026-2027”" in page and "服务结束时间应晚于开始时间" in page
    assert not Batch.objects.filter(name="2027届研究生离校").exists()


def test_guided_batch_create_then_roster_then_grants_then_done(uni):
    client = client_for(uni.office)
    response = client.post(reverse("console:batch_create"), batch_post(uni))
    batch = Batch.objects.get(name="2027届研究生离校")
    event = last_event("console.batch.created")
    assert event.batch == batch and event.data["academic_year"] == "2026-2027"
    page = client.get(response["Location"]).content.decode()
    assert "名单导入" in page and "下一步" in page  # step 2 of the guided path
    assert reverse("console:batch_grants", args=[batch.pk]) + "?setup=1" in page
    page = client.get(
        reverse("console:batch_grants", args=[batch.pk]) + "?setup=1"
    ).content.decode()
    assert reverse("console:batch_setup_done", args=[batch.pk]) + "?setup=1" in page
    page = client.get(reverse("console:batch_setup_done", args=[batch.pk])).content.decode()
    assert "设置完成" in page and "名单：0 人" in page


def test_edit_is_audited_with_what_changed(uni):
    client = client_for(uni.office)
    data = batch_post(
        uni, name=uni.batch.name, academic_year="2025-2026", student_type="本科生", enabled=None
    )
    response = client.post(reverse("console:batch_edit", args=[uni.batch.pk]), data)
    assert response.status_code == 302
    uni.batch.refresh_from_db()
    assert uni.batch.enabled is False
    changes = last_event("console.batch.updated").data["changes"]
    assert changes["enabled"] == ["True", "False"] and "closes_at" in changes


def test_a_batch_with_forms_keeps_its_category(uni):
    from tests import factories as f

    other = f.category(name="研究生离校")
    client_for(uni.office).post(
        reverse("console:batch_edit", args=[uni.batch.pk]),
        batch_post(uni, name=uni.batch.name, category=other.pk),
    )
    uni.batch.refresh_from_db()
    assert uni.batch.category == uni.category


def test_batch_page_shows_roster_grants_and_progress(uni):
    page = (
        client_for(uni.office).get(reverse("console:batch", args=[uni.batch.pk])).content.decode()
    )
    assert "3 人" in page and "计算机与信息科学学院" in page and "文学院" in page
    assert "组织关系转移" in page and "院系离校" in page
    # The roster import belongs to another page group; the batch page must render either way.
    assert "名单导入" in page
