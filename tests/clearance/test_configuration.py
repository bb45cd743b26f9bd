"""Configuration through the core (Rule 5 for set-up): every service checks the role, audits
with its dotted code through the one helper, and moves the cache versions the students' page
reads — and a refused call changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lixiao.clearance import rules, services
from lixiao.clearance.models import (
    Batch,
    Category,
    ChangeRequest,
    Event,
    Form,
    Grant,
    Record,
    Scope,
    Source,
    Step,
)
from lixiao.directory.models import College, Department, Staff
from lixiao.directory.services import StaffEntry
from lixiao.notify.models import Notification
from lixiao.survey.models import Question
from tests import factories as f

pytestmark = pytest.mark.django_db


def office(uni) -> services.Actor:
    return services.Actor(user=uni.office, source="admin", client_ip="10.1.2.3")


def last(action: str) -> Event:
    event = Event.objects.filter(action=action).order_by("-id").first()
    assert event is not None, f"no {action} event"
    return event


def category_version(uni):
    return Category.objects.values_list("changed_at", flat=True).get(pk=uni.category.pk)


def form_versions(uni) -> dict:
    return dict(Form.objects.filter(batch=uni.batch).values_list("id", "changed_at"))


@pytest.fixture
def moved(uni):
    """moved() → (category version moved, form ids whose version moved) since the fixture."""
    category_before, forms_before = category_version(uni), form_versions(uni)

    def check():
        after = form_versions(uni)
        return (
            category_version(uni) != category_before,
            {fid for fid, at in after.items() if at != forms_before.get(fid)},
        )

    return check


def audited(action: str, uni) -> Event:
    """The latest event of this action, by the office, from its address."""
    event = last(action)
    assert event.actor_id == uni.office.id and event.client_ip == "10.1.2.3"
    return event


def step_of(uni, title) -> Step:
    return Step.objects.get(category=uni.category, title=title)


# ---------------------------------------------------------------------------------------------
# categories and steps: the student's page shows them


def test_category_update_audits_what_changed_and_moves_its_version(uni, moved):
    changes = services.update_category(office(uni), uni.category, {"name": "本科生离校（新）"})
    assert changes == {"name": ["本科生离校", "本科生离校（新）"]}
    assert audited("console.category.updated", uni).data["changes"] == changes
    assert moved()[0]


def test_a_new_completion_rule_resettles_completion_in_the_same_call(uni):
    # Every required step passed, the optional 校友会登记 still pending: incomplete under "all".
    actor = office(uni)
    for title in ("图书馆", "财务处", "学生公寓", "组织关系转移", "院系离校"):
        services.pass_record(actor, Record.objects.get(form=uni.form, step__title=title).id)
    assert Form.objects.get(pk=uni.form.pk).completed_at is None
    services.update_category(actor, uni.category, {"completion_rule": "required"})
    assert audited("console.category.updated", uni).data["changes"]["completion_rule"]
    assert last("clearance.completion.recomputed").data == {"completed": 1, "reopened": 0}
    assert Form.objects.get(pk=uni.form.pk).completed_at is not None


def test_create_and_delete_category_are_audited_and_a_used_one_is_refused(uni):
    category = services.create_category(office(uni), {"name": "结业离校", "completion_rule": "all"})
    assert audited("console.category.created", uni).data["name"] == "结业离校"
    category_id = category.id
    services.delete_category(office(uni), category)
    assert audited("console.category.deleted", uni).data["category"] == category_id
    with pytest.raises(services.Refused, match="正被离校批次使用"):
        services.delete_category(office(uni), uni.category)
    assert Category.objects.filter(pk=uni.category.pk).exists()


def test_survey_switch_is_audited_and_moves_the_category(uni, moved):
    assert services.set_survey_enabled(office(uni), uni.category, True)
    assert audited("console.category.service_updated", uni).data["survey_enabled"] is True
    assert moved()[0]
    assert not services.set_survey_enabled(office(uni), uni.category, True)  # no change, no event
    assert Event.objects.filter(action="console.category.service_updated").count() == 1


def test_a_new_step_gets_records_on_every_form_audited_and_versions_moved(uni, moved):
    saved = services.create_step(
        office(uni),
        uni.category,
        {"title": "体检表归档", "owner_type": "college", "required": True},
    )
    event = audited("console.step.created", uni)
    assert event.data["records_added"] == 3 == saved.records_added
    assert last("clearance.step.records_added").data["records"] == 3
    category_moved, forms = moved()
    assert category_moved and forms == set(form_versions(uni))


def test_a_changed_condition_is_reapplied_and_audited_with_both_conditions(uni, moved):
    step = step_of(uni, "组织关系转移")
    before = step.condition
    saved = services.update_step(office(uni), step, {}, [])  # now applies to everyone
    event = audited("console.step.updated", uni)
    assert event.data["condition"] == [before, []]
    assert saved.reapplied == 2  # the two students who are not party members
    assert moved()[0]


def test_a_bad_condition_is_refused_and_nothing_changes(uni):
    step = step_of(uni, "组织关系转移")
    bad = [{"attr": "political_status", "op": "in", "values": []}]
    with pytest.raises(rules.ConditionError):
        services.update_step(office(uni), step, {}, bad)
    step.refresh_from_db()
    assert step.condition == [f.PARTY]
    assert not Event.objects.filter(action="console.step.updated").exists()


def test_move_and_delete_step_are_audited_and_move_the_category(uni, moved):
    step = services.create_step(
        office(uni), uni.category, {"title": "临时环节", "owner_type": "college"}
    ).step
    assert services.move_step(office(uni), uni.category, step.id, "up")
    assert audited("console.step.moved", uni).data["step"] == step.id
    with pytest.raises(services.Refused, match="不能删除"):  # it has records now
        services.delete_step(office(uni), step)
    unused = Step.objects.create(
        category=f.category(name="空类别"), title="无人使用", owner_type="college"
    )
    services.delete_step(office(uni), unused)
    assert audited("console.step.deleted", uni).data["title"] == "无人使用"
    assert moved()[0]


# ---------------------------------------------------------------------------------------------
# batches and grants


def test_create_batch_copies_default_grants_and_audits_both(uni):
    Grant.objects.create(step=step_of(uni, "图书馆"), user=uni.library, scope=Scope.SCHOOL)
    now = timezone.now()
    batch, copied = services.create_batch(
        office(uni),
        {
            "name": "2026届结业",
            "academic_year": "2025-2026",
            "category": uni.category,
            "opens_at": now,
            "closes_at": now + timedelta(days=30),
        },
    )
    assert copied == 1 and Grant.objects.filter(batch=batch, user=uni.library).exists()
    assert audited("console.batch.created", uni).data["batch"] == batch.id
    assert audited("console.grant.copied", uni).data["grants"] == 1


def test_update_batch_refuses_a_new_category_once_forms_exist(uni):
    other = f.category(name="研究生离校")
    with pytest.raises(services.Refused, match="不能更换离校类别"):
        services.update_batch(office(uni), uni.batch, {"category": other})
    assert Batch.objects.get(pk=uni.batch.pk).category_id == uni.category.id
    changes = services.update_batch(office(uni), uni.batch, {"enabled": False})
    assert (
        audited("console.batch.updated", uni).data["changes"]
        == changes
        == {"enabled": ["True", "False"]}
    )


def test_grant_create_and_delete_are_audited_and_create_the_person(uni):
    grant, created = services.create_grant(
        office(uni),
        step=step_of(uni, "学生公寓"),
        batch=uni.batch,
        staff_number="D4002",
        name="公寓孙老师",
        scope=Scope.SCHOOL,
    )
    assert created and Staff.objects.filter(staff_number="D4002").exists()
    assert audited("console.staff.created", uni).data["user"] == "D4002"
    assert audited("console.grant.created", uni).data["grant"] == grant.id
    services.delete_grant(office(uni), grant)
    assert audited("console.grant.deleted", uni).data["user"] == "D4002"


def test_a_department_step_cannot_be_granted_by_college(uni):
    with pytest.raises(services.Refused, match="授权范围应为全校"):
        services.create_grant(
            office(uni),
            step=step_of(uni, "图书馆"),
            batch=uni.batch,
            staff_number="T1001",
            scope=Scope.COLLEGE,
            college=uni.cs,
        )


def test_delegation_needs_a_lead_grant_and_is_audited(uni):
    lead = Grant.objects.get(batch=uni.batch, user=uni.counselor_cs, step__title="院系离校")
    f.staff("T1003", "王老师", college=uni.cs)
    counselor = services.Actor(user=uni.counselor_cs, source=Source.DESK)
    with pytest.raises(services.Forbidden):  # not a lead yet
        services.delegate(counselor, lead, "T1003", Scope.MINE)
    Grant.objects.filter(pk=lead.pk).update(is_lead=True)
    lead.refresh_from_db()
    grant = services.delegate(counselor, lead, "T1003", Scope.MINE)
    assert last("desk.grant.delegated").data["lead_grant"] == lead.id
    with pytest.raises(services.Refused, match="只能授权本院系人员"):
        services.delegate(counselor, lead, "T1002", Scope.COLLEGE)  # 李老师 is of 文学院
    services.revoke_delegation(counselor, grant.id)
    assert last("desk.grant.revoked").data["user"] == "T1003"
    with pytest.raises(services.NotFound):  # the office's grant is not the lead's to revoke
        services.revoke_delegation(counselor, lead.id)


# ---------------------------------------------------------------------------------------------
# change requests


def test_a_change_request_is_submitted_decided_audited_and_the_requester_told(uni):
    uni.category.change_deadline = timezone.localdate() + timedelta(days=3)
    uni.category.save()
    handler = services.Actor(user=uni.dorm, source=Source.DESK)
    change = services.submit_change_request(
        handler, category=uni.category, kind="add", reason="新增宿舍清洁检查", title="宿舍检查"
    )
    assert last("desk.change_request.submitted").data["change_request"] == change.id
    with pytest.raises(services.Refused, match="写明理由"):
        services.decide_change_request(office(uni), change, approve=False)
    services.decide_change_request(office(uni), change, approve=True)
    assert audited("console.change_request.approved", uni).data["title"] == "宿舍检查"
    assert Notification.objects.filter(user=uni.dorm, title__contains="已同意").exists()
    with pytest.raises(services.Refused, match="已审核"):
        services.decide_change_request(office(uni), change, approve=True)
    saved = services.create_step(
        office(uni), uni.category, {"title": "宿舍检查", "owner_type": "college"},
        change_request=change,
    )  # fmt: skip
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.DONE and change.step == saved.step


def test_someone_without_a_grant_cannot_ask(uni):
    uni.category.change_deadline = timezone.localdate() + timedelta(days=3)
    uni.category.save()
    with pytest.raises(services.Forbidden):
        services.submit_change_request(
            services.Actor(user=uni.outsider, source=Source.DESK),
            category=uni.category,
            kind="add",
            reason="?",
            title="x",
        )
    assert not ChangeRequest.objects.exists()


# ---------------------------------------------------------------------------------------------
# roster, survey, master data


def test_counselor_reassignment_audits_each_form_and_moves_its_version(uni, moved):
    roster = services.Actor.system(Source.ROSTER, uni.office)
    n = services.assign_counselors(roster, uni.batch, {uni.counselor_lit.id: [uni.student.id]})
    assert n == 1
    event = last("roster.counselor.assigned")
    assert event.form_id == uni.form.id
    assert event.data == {"from": uni.counselor_cs.id, "to": uni.counselor_lit.id}
    assert moved()[1] == {uni.form.id}
    assert (
        services.assign_counselors(roster, uni.batch, {uni.counselor_lit.id: [uni.student.id]}) == 0
    )


def test_survey_questions_are_audited_and_move_the_category(uni, moved):
    question = services.save_question(
        office(uni), uni.category, None, {"text": "满意吗？", "kind": "text", "required": True}
    )
    assert audited("console.question.created", uni).data["question"] == question.id
    services.save_question(office(uni), uni.category, question, {"text": "满意度如何？"})
    assert audited("console.question.updated", uni).data["text"] == "满意度如何？"
    question_id = question.id
    services.delete_question(office(uni), question)
    assert audited("console.question.deleted", uni).data["question"] == question_id
    assert not Question.objects.exists() and moved()[0]


def test_master_data_changes_are_audited_and_move_every_category(uni, moved):
    services.save_place(office(uni), "colleges", uni.cs, {"name": "计算机学院"})
    assert audited("console.colleges.updated", uni).data["changed"] == ["name"]
    assert moved()[0]
    dorm = Department.objects.get(code="DORM")
    services.save_place(office(uni), "departments", dorm, {"contact": "023-0003"})
    assert audited("console.departments.updated", uni).data["changed"] == ["contact"]
    staff = Staff.objects.get(staff_number="L2001")
    services.save_staff(office(uni), staff, {"name": "图书馆王主任"}, id_number="")
    assert audited("console.staff.updated", uni).note.startswith("图书馆王主任")
    result = services.import_places(
        office(uni), College, "console.colleges", [{"code": "MATH", "name": "数学学院"}],
        ("name",), None, "导入：colleges.xlsx",
    )  # fmt: skip
    assert result == {"created": 1, "updated": 0}
    assert audited("console.colleges.imported", uni).data == result
    staff_result = services.import_staff(
        office(uni), "console.staff", [StaffEntry("T2001", "新老师", college_id=uni.cs.id)],
        None, "导入：staff.xlsx",
    )  # fmt: skip
    assert staff_result == {"created": 1, "updated": 0}


# ---------------------------------------------------------------------------------------------
# the role check holds whatever the surface


@pytest.mark.parametrize(
    "call",
    [
        lambda u, a: services.create_category(a, {"name": "x"}),
        lambda u, a: services.update_category(a, u.category, {"name": "x"}),
        lambda u, a: services.set_survey_enabled(a, u.category, True),
        lambda u, a: services.create_step(a, u.category, {"title": "x", "owner_type": "college"}),
        lambda u, a: services.update_step(a, step_of(u, "图书馆"), {"title": "x"}, []),
        lambda u, a: services.move_step(a, u.category, step_of(u, "图书馆").id, "down"),
        lambda u, a: services.update_batch(a, u.batch, {"enabled": False}),
        lambda u, a: services.copy_default_grants(a, u.batch),
        lambda u, a: services.delete_grant(a, Grant.objects.filter(batch=u.batch).first()),
        lambda u, a: services.assign_counselors(a, u.batch, {None: [u.student.id]}),
        lambda u, a: services.save_place(a, "colleges", u.cs, {"name": "x"}),
    ],
)
def test_a_handler_is_refused_every_configuration_change(uni, call):
    events = Event.objects.count()
    with pytest.raises(services.Forbidden):
        call(uni, services.Actor(user=uni.dorm, source=Source.DESK))
    assert Event.objects.count() == events
    assert Category.objects.get(pk=uni.category.pk).name == "本科生离校"
    assert Batch.objects.get(pk=uni.batch.pk).enabled
    assert Form.objects.get(pk=uni.form.pk).counselor_id == uni.counselor_cs.id
