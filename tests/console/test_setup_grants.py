"""Grants: by staff number (new numbers create accounts), scope rules, defaults copied, delegation."""

import pytest
from django.urls import reverse

from lixiao.clearance import scope
from lixiao.clearance.models import Batch, Grant, Step
from lixiao.directory.models import Staff, User
from tests import factories as f
from tests.conftest import client_for
from tests.console.setup_helpers import last_event

pytestmark = pytest.mark.django_db


def step(uni, title):
    return Step.objects.get(category=uni.category, title=title)


def test_new_staff_number_creates_the_account_with_its_name(uni):
    client = client_for(uni.office)
    url = reverse("console:batch_grants", args=[uni.batch.pk])
    page = client.post(
        url, {"step": step(uni, "学生公寓").pk, "staff_number": "D4002", "scope": "school"}
    )
    assert "职工号 D4002 尚未登记，请填写姓名" in page.content.decode()
    assert not User.objects.filter(username="D4002").exists()
    client.post(
        url,
        {
            "step": step(uni, "学生公寓").pk,
            "staff_number": "D4002",
            "name": "公寓孙老师",
            "scope": "school",
        },
    )
    user = User.objects.get(username="D4002")
    assert user.name == "公寓孙老师" and Staff.objects.get(user=user).staff_number == "D4002"
    grant = Grant.objects.get(user=user)
    assert grant.batch == uni.batch and grant.created_by == uni.office
    assert last_event("console.staff.created").data["user"] == "D4002"
    event = last_event("console.grant.created")
    assert (
        event.batch == uni.batch and event.client_ip == "10.1.2.3" and event.data["user"] == "D4002"
    )
    # Effective at once: the new handler may change the step now.
    assert scope.reach(user, uni.batch.id).steps == [step(uni, "学生公寓")]


def test_scope_rules_follow_the_step_owner(uni):
    client = client_for(uni.office)
    url = reverse("console:batch_grants", args=[uni.batch.pk])
    page = client.post(
        url,
        {
            "step": step(uni, "图书馆").pk,
            "staff_number": "T1001",
            "scope": "college",
            "college": uni.cs.pk,
        },
    ).content.decode()
    assert "学校部门环节，授权范围应为全校" in page
    page = client.post(
        url, {"step": step(uni, "院系离校").pk, "staff_number": "T1001", "scope": "school"}
    ).content.decode()
    assert "院系环节，请按院系授权" in page
    page = client.post(
        url, {"step": step(uni, "院系离校").pk, "staff_number": "T1002", "scope": "college"}
    ).content.decode()
    assert "范围为本院系时须选择院系" in page
    page = client.post(
        url, {"step": step(uni, "院系离校").pk, "staff_number": "2022000001", "scope": "mine"}
    ).content.decode()
    assert "是学生学号，不能授权办理" in page
    page = client.post(
        url,
        {
            "step": step(uni, "院系离校").pk,
            "staff_number": "T1001",
            "scope": "college",
            "college": uni.cs.pk,
        },
    ).content.decode()
    assert "已有“院系离校”的相同授权" in page
    page = client.post(
        url,
        {
            "step": step(uni, "院系离校").pk,
            "staff_number": "T1002",
            "scope": "mine",
            "starts_on": "2026-07-01",
            "ends_on": "2026-06-01",
        },
    ).content.decode()
    assert "截止日期不能早于生效日期" in page
    assert Grant.objects.filter(batch=uni.batch).count() == 8


def test_creating_a_batch_copies_the_category_defaults(uni):
    client = client_for(uni.office)
    client.post(
        reverse("console:category_grants", args=[uni.category.pk]),
        {"step": step(uni, "图书馆").pk, "staff_number": "L2001", "scope": "school"},
    )
    client.post(
        reverse("console:category_grants", args=[uni.category.pk]),
        {
            "step": step(uni, "院系离校").pk,
            "staff_number": "T1001",
            "scope": "college",
            "college": uni.cs.pk,
            "is_lead": "on",
        },
    )
    assert Grant.objects.filter(batch__isnull=True).count() == 2
    response = client.post(
        reverse("console:batch_create"),
        {
            "name": "2027届本科生离校",
            "academic_year": "2026-2027",
            "student_type": "本科生",
            "category": uni.category.pk,
            "opens_at": "2027-06-01T08:00",
            "closes_at": "2027-07-15T18:00",
            "enabled": "on",
        },
    )
    batch = Batch.objects.get(name="2027届本科生离校")
    assert response["Location"] == reverse("console:batch", args=[batch.pk]) + "?setup=1"
    copies = Grant.objects.filter(batch=batch)
    assert {(g.step.title, g.user.username, g.scope, g.is_lead) for g in copies} == {
        ("图书馆", "L2001", "school", False),
        ("院系离校", "T1001", "college", True),
    }
    # Per-batch adjustment leaves the category's defaults alone.
    client.post(reverse("console:grant_delete", args=[copies.get(step__title="图书馆").pk]))
    assert Grant.objects.filter(batch=batch).count() == 1
    assert Grant.objects.filter(batch__isnull=True).count() == 2
    assert last_event("console.grant.deleted").batch == batch
    client.post(reverse("console:batch_grants_copy", args=[batch.pk]))
    assert Grant.objects.filter(batch=batch).count() == 2


def test_who_can_do_what_table_lists_every_step_and_flags_ungranted(uni):
    Grant.objects.filter(batch=uni.batch, step__title="财务处").delete()
    page = (
        client_for(uni.office)
        .get(reverse("console:batch_grants", args=[uni.batch.pk]))
        .content.decode()
    )
    assert "财务处赵老师" not in page and "尚无人员授权" in page
    assert "图书馆王老师" in page and "张老师" in page and "计算机与信息科学学院" in page


@pytest.fixture
def lead(uni):
    """张老师 leads 院系离校 for the CS college in this batch; 孙老师 is a CS counselor without grants."""
    Grant.objects.filter(batch=uni.batch, user=uni.counselor_cs, step__title="院系离校").update(
        is_lead=True
    )
    return f.staff("T1003", "孙老师", college=uni.cs)


def test_a_college_lead_delegates_its_step_to_a_counselor_at_once(uni, lead):
    client = client_for(uni.counselor_cs)
    page = client.get(reverse("desk:delegate")).content.decode()
    assert "院系离校" in page and "组织关系转移" not in page  # only what it leads
    lead_grant = Grant.objects.get(batch=uni.batch, user=uni.counselor_cs, step__title="院系离校")
    response = client.post(
        reverse("desk:delegate"), {"lead": lead_grant.pk, "staff_number": "T1003", "scope": "mine"}
    )
    assert response.status_code == 302
    grant = Grant.objects.get(user=lead)
    assert (grant.batch, grant.step.title, grant.scope, grant.is_lead) == (
        uni.batch,
        "院系离校",
        "mine",
        False,
    )
    event = last_event("desk.grant.delegated")
    assert (
        event.actor == uni.counselor_cs and event.source == "desk" and event.data["user"] == "T1003"
    )
    assert scope.reach(lead, uni.batch.id).steps == [step(uni, "院系离校")]
    client.post(reverse("desk:delegate_revoke", args=[grant.pk]))
    assert not Grant.objects.filter(user=lead).exists()
    assert last_event("desk.grant.revoked").data["user"] == "T1003"


def test_delegation_reaches_only_the_leads_own_college(uni, lead):
    client = client_for(uni.counselor_cs)
    lead_grant = Grant.objects.get(batch=uni.batch, user=uni.counselor_cs, step__title="院系离校")
    page = client.post(
        reverse("desk:delegate"),
        {"lead": lead_grant.pk, "staff_number": "T1002", "scope": "college"},
    ).content.decode()
    assert "不是计算机与信息科学学院的教职工" in page
    other = Grant.objects.get(batch=uni.batch, user=uni.counselor_cs, step__title="组织关系转移")
    page = client.post(
        reverse("desk:delegate"), {"lead": other.pk, "staff_number": "T1003", "scope": "college"}
    ).content.decode()
    assert "选择一个有效的选项" in page  # not a lead grant: not offered
    assert not Grant.objects.filter(user=lead).exists()


def test_delegation_is_refused_to_non_leads_and_cannot_revoke_others(uni, lead):
    assert client_for(uni.counselor_lit).get(reverse("desk:delegate")).status_code == 403
    assert client_for(uni.library).get(reverse("desk:delegate")).status_code == 403
    assert client_for(uni.student.user).get(reverse("desk:delegate")).status_code == 403
    office_grant = Grant.objects.get(
        batch=uni.batch, user=uni.counselor_lit, step__title="院系离校"
    )
    response = client_for(uni.counselor_cs).post(
        reverse("desk:delegate_revoke", args=[office_grant.pk])
    )
    assert response.status_code == 404
    assert Grant.objects.filter(pk=office_grant.pk).exists()
