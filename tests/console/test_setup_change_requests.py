"""Change requests: submitted from the desk before the deadline, decided by the office, seen by the requester."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lixiao.clearance.models import ChangeRequest, Record, Step
from lixiao.directory.models import Department
from tests.conftest import client_for
from tests.console.setup_helpers import last_event, step_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_until(uni):
    uni.category.change_deadline = timezone.localdate() + timedelta(days=7)
    uni.category.save()
    return uni.category.change_deadline


def submit(uni, user, **data):
    return client_for(user).post(
        reverse("desk:change_requests"), {"category": uni.category.pk, **data}
    )


def test_nothing_can_be_submitted_without_an_open_deadline(uni):
    page = client_for(uni.library).get(reverse("desk:change_requests")).content.decode()
    assert "目前没有接受环节变更申请的离校类别" in page
    uni.category.change_deadline = timezone.localdate() - timedelta(days=1)
    uni.category.save()
    page = submit(uni, uni.library, kind="add", title="档案", reason="需要").content.decode()
    assert "目前没有接受环节变更申请的离校类别" in page  # past the deadline: refused
    assert not ChangeRequest.objects.exists()


def test_added_step_arrives_as_a_draft_the_office_completes(uni, open_until):
    archive = Department.objects.create(code="ARC", name="档案馆")
    page = submit(
        uni, uni.library, kind="add", title="档案转递", owner_type="department", reason=""
    ).content.decode()
    assert "这个字段是必填项" in page and "学校部门环节须选择所属部门" in page
    submit(
        uni,
        uni.library,
        kind="add",
        title="档案转递",
        owner_type="department",
        department=archive.pk,
        reason="毕业生档案须转递",
    )
    change = ChangeRequest.objects.get()
    assert (
        change.status == "pending"
        and last_event("desk.change_request.submitted").actor == uni.library
    )
    office = client_for(uni.office)
    response = office.post(
        reverse("console:change_request", args=[change.pk]), {"decision": "approve"}
    )
    assert response["Location"].endswith(f"?change_request={change.pk}")
    change.refresh_from_db()
    assert change.is_draft and not Step.objects.filter(title="档案转递").exists()
    assert (
        "待完善" in office.get(reverse("console:category", args=[uni.category.pk])).content.decode()
    )
    form_page = office.get(response["Location"]).content.decode()
    assert "毕业生档案须转递" in form_page and 'value="档案转递"' in form_page
    office.post(response["Location"], step_post(title="档案转递", department=archive.pk))
    change.refresh_from_db()
    assert change.status == "done" and change.step.title == "档案转递"
    assert Record.objects.filter(step=change.step).count() == 3
    # The requester sees the outcome and was notified.
    assert uni.library.notifications.filter(title__contains="已同意").exists()
    assert (
        "已加入类别"
        in client_for(uni.library).get(reverse("desk:change_requests")).content.decode()
    )
    assert last_event("console.change_request.approved").data["change_request"] == change.pk


def test_removal_is_refused_while_a_batch_in_progress_uses_the_step(uni, open_until):
    dorm_step = Step.objects.get(category=uni.category, title="学生公寓")
    submit(uni, uni.dorm, kind="remove", step=dorm_step.pk, reason="并入院系离校")
    change = ChangeRequest.objects.get()
    response = client_for(uni.office).post(
        reverse("console:change_request", args=[change.pk]), {"decision": "approve"}, follow=True
    )
    assert f"{uni.batch.name} 正在使用“学生公寓”" in response.content.decode()
    change.refresh_from_db()
    assert change.status == "pending" and Step.objects.filter(pk=dorm_step.pk).exists()


def test_removal_of_an_unused_step_deletes_it(uni, open_until):
    spare = Step.objects.create(
        category=uni.category, title="临时环节", owner_type="college", order=9
    )
    submit(uni, uni.counselor_cs, kind="remove", step=spare.pk, reason="不再需要")
    change = ChangeRequest.objects.get()
    client_for(uni.office).post(
        reverse("console:change_request", args=[change.pk]), {"decision": "approve"}
    )
    change.refresh_from_db()
    assert change.status == "approved" and not Step.objects.filter(pk=spare.pk).exists()
    assert last_event("console.step.deleted").data["change_request"] == change.pk


def test_rejection_needs_a_reason_the_requester_then_sees(uni, open_until):
    submit(uni, uni.library, kind="add", title="体检", owner_type="college", reason="需要")
    change = ChangeRequest.objects.get()
    office = client_for(uni.office)
    page = office.post(
        reverse("console:change_request", args=[change.pk]), {"decision": "reject"}
    ).content.decode()
    assert "驳回时请写明理由" in page
    office.post(
        reverse("console:change_request", args=[change.pk]),
        {"decision": "reject", "note": "由校医院统一安排"},
    )
    change.refresh_from_db()
    assert change.status == "rejected" and change.decided_by == uni.office
    mine = client_for(uni.library).get(reverse("desk:change_requests")).content.decode()
    assert "已驳回" in mine and "由校医院统一安排" in mine
    assert uni.library.notifications.get().body == "由校医院统一安排"
    # A decided request cannot be decided again.
    office.post(reverse("console:change_request", args=[change.pk]), {"decision": "approve"})
    change.refresh_from_db()
    assert change.status == "rejected"


def test_students_and_outsiders_cannot_submit(uni, open_until):
    for user in (uni.student.user, uni.outsider, uni.office):
        assert client_for(user).get(reverse("desk:change_requests")).status_code == 403
