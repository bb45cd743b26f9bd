"""Categories and steps from the console: guided create, conditions, records for new steps, order."""

import pytest
from django.urls import reverse

from lixiao.clearance import queries
from lixiao.clearance.models import Category, Event, Form, Record, State, Step
from lixiao.directory.models import Department
from lixiao.integrations.models import IntegrationSource
from tests import factories as f
from tests.conftest import client_for, record
from tests.console.setup_helpers import last_event, step_post

pytestmark = pytest.mark.django_db


def test_guided_create_starts_with_name_and_rule_and_leads_to_steps(uni):
    client = client_for(uni.office)
    page = client.get(reverse("console:category_create")).content.decode()
    assert "名称与规则" in page and "学生服务设置" in page  # the set-up path is shown
    response = client.post(
        reverse("console:category_create"), {"name": "研究生离校", "completion_rule": "required"}
    )
    category = Category.objects.get(name="研究生离校")
    assert response["Location"] == reverse("console:category", args=[category.pk]) + "?setup=1"
    page = client.get(response["Location"]).content.decode()
    assert (
        "下一步" in page
        and reverse("console:category_grants", args=[category.pk]) + "?setup=1" in page
    )
    event = last_event("console.category.created")
    assert (
        event.actor == uni.office
        and event.client_ip == "10.1.2.3"
        and event.data["name"] == "研究生离校"
    )


def test_duplicate_name_is_refused_next_to_the_field(uni):
    response = client_for(uni.office).post(
        reverse("console:category_create"), {"name": uni.category.name, "completion_rule": "all"}
    )
    assert response.status_code == 200
    assert "已有同名的离校类别" in response.content.decode()


def test_category_in_use_cannot_be_deleted_an_unused_one_can(uni):
    client = client_for(uni.office)
    response = client.post(reverse("console:category_delete", args=[uni.category.pk]), follow=True)
    assert (
        "正被离校批次使用" in response.content.decode()
        and uni.batch.name in response.content.decode()
    )
    assert Category.objects.filter(pk=uni.category.pk).exists()
    spare = Category.objects.create(name="空类别")
    client.post(reverse("console:category_delete", args=[spare.pk]))
    assert not Category.objects.filter(pk=spare.pk).exists()
    assert last_event("console.category.deleted").data["name"] == "空类别"


def test_step_form_errors_say_what_to_fix(uni):
    client = client_for(uni.office)
    url = reverse("console:step_create", args=[uni.category.pk])
    page = client.post(url, step_post(title="档案馆", automatic="on")).content.decode()
    assert "学校部门环节须选择所属部门" in page and "自动办理的环节须选择集成表" in page
    page = client.post(
        url, step_post(title="再一个最终环节", owner_type="college", is_final="on")
    ).content.decode()
    assert "最终环节已是“院系离校”" in page
    page = client.post(
        url,
        step_post(title="党员", owner_type="college", conditions=[("political_status", "in", "")]),
    ).content.decode()
    assert "请填写至少一个取值" in page
    assert not Step.objects.filter(title__in=["档案馆", "再一个最终环节", "党员"]).exists()


def test_new_step_gets_records_on_existing_forms_and_reopens_completed_ones(uni):
    f.pass_prerequisites(uni.form_cs2, uni.office)
    f.pass_prerequisites(uni.form, uni.office)
    from lixiao.clearance import services

    services.pass_record(
        services.Actor(user=uni.office, source="admin"), record(uni.form, "院系离校").id
    )
    uni.form.refresh_from_db()
    assert uni.form.completed_at is not None
    archive = Department.objects.create(code="ARC", name="档案馆")
    response = client_for(uni.office).post(
        reverse("console:step_create", args=[uni.category.pk]),
        step_post(
            title="档案转递",
            department=archive.pk,
            conditions=[("political_status", "in", "中共党员、中共预备党员")],
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    step = Step.objects.get(title="档案转递")
    assert step.condition == [
        {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}
    ]
    assert Record.objects.filter(step=step).count() == Form.objects.filter(batch=uni.batch).count()
    assert record(uni.form, "档案转递").state == State.PENDING  # party member
    assert record(uni.form_cs2, "档案转递").state == State.NOT_REQUIRED
    uni.form.refresh_from_db()
    assert uni.form.completed_at is None  # a complete form became incomplete
    assert (
        record(uni.form, "院系离校").state == State.PENDING
    )  # Rule 2: never final passed + pending required
    assert f.broken_forms(uni.batch) == []
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    assert last_event("console.step.created").data["records_added"] == 3


def test_changing_a_condition_re_evaluates_open_forms(uni):
    step = Step.objects.get(category=uni.category, title="组织关系转移")
    assert record(uni.form_cs2, "组织关系转移").state == State.NOT_REQUIRED
    response = client_for(uni.office).post(
        reverse("console:step_edit", args=[uni.category.pk, step.pk]),
        step_post(
            title="组织关系转移",
            owner_type="college",
            conditions=[("political_status", "in", "中共党员、中共预备党员、共青团员、群众")],
        ),
    )
    assert response.status_code == 302
    assert record(uni.form_cs2, "组织关系转移").state == State.PENDING
    assert Event.objects.filter(
        action="clearance.record.applicable", form=uni.form_cs2, source="admin"
    ).exists()
    assert last_event("console.step.updated").data["condition"][0][0]["values"] == [
        "中共党员",
        "中共预备党员",
    ]
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_conditions_take_gb_t_4762_codes_and_groups(uni):
    from lixiao.directory.models import Student

    Student.objects.filter(pk=uni.student_cs2.pk).update(political_status="民盟盟员")
    archive = Department.objects.create(code="ARC", name="档案馆")
    client = client_for(uni.office)
    url = reverse("console:step_create", args=[uni.category.pk])
    page = client.post(
        url,
        step_post(
            title="党派登记",
            department=archive.pk,
            conditions=[("political_status", "in", "01、民主党, 党员"), ("gender", "eq", "0")],
        ),
    ).content.decode()
    # Words no roster stores would make the step apply to nobody: refused, saying what fits.
    assert "政治面貌没有“民主党、党员”" in page
    assert "或分组：中共党员（含预备党员）、民主党派" in page
    assert "性别的取值应为 男 或 女（或代码 1、2）" in page
    assert not Step.objects.filter(title="党派登记").exists()

    response = client.post(
        url,
        step_post(
            title="党派登记",
            department=archive.pk,
            conditions=[("political_status", "in", "民主党派、13"), ("gender", "eq", "1")],
        ),
    )
    assert response.status_code == 302
    step = Step.objects.get(title="党派登记")
    assert step.condition == [
        {"attr": "political_status", "op": "in", "values": ["民主党派", "群众"]},
        {"attr": "gender", "op": "eq", "values": ["男"]},
    ]
    assert record(uni.form_cs2, "党派登记").state == State.PENDING  # 民盟盟员 is in 民主党派
    assert record(uni.form_lit, "党派登记").state == State.PENDING  # 群众
    assert record(uni.form, "党派登记").state == State.NOT_REQUIRED  # 中共党员
    # The edit page shows the condition as stored, and the category page says who it is for.
    edit = client.get(reverse("console:step_edit", args=[uni.category.pk, step.pk]))
    assert "民主党派、群众" in edit.content.decode()
    category = client.get(reverse("console:category", args=[uni.category.pk])).content.decode()
    assert "政治面貌为 民主党派、群众" in category


def test_making_a_step_optional_recomputes_completion(uni):
    for form in (uni.form_cs2,):
        f.pass_prerequisites(form, uni.office)
    from lixiao.clearance import services

    services.pass_record(
        services.Actor(user=uni.office, source="admin"), record(uni.form_cs2, "院系离校").id
    )
    uni.category.completion_rule = "required"
    uni.category.save()
    services.revoke_record(
        services.Actor(user=uni.office, source="admin"), record(uni.form_cs2, "校友会登记").id
    )
    uni.form_cs2.refresh_from_db()
    assert uni.form_cs2.completed_at is not None  # 校友会登记 is optional under the required rule
    step = Step.objects.get(category=uni.category, title="校友会登记")
    client_for(uni.office).post(
        reverse("console:step_edit", args=[uni.category.pk, step.pk]),
        step_post(title="校友会登记", department=step.department_id),
    )  # now required
    uni.form_cs2.refresh_from_db()
    assert uni.form_cs2.completed_at is None
    assert f.broken_forms(uni.batch) == []
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_automatic_step_from_the_library_source(uni):
    source = IntegrationSource.objects.get(code="library")
    client_for(uni.office).post(
        reverse("console:step_create", args=[uni.category.pk]),
        step_post(
            title="图书馆二", department=source.department_id, automatic="on", source=source.pk
        ),
    )
    step = Step.objects.get(title="图书馆二")
    assert step.automatic and step.source == source and step.order == 7


def test_step_with_records_cannot_be_deleted_a_new_one_can(uni):
    client = client_for(uni.office)
    library = Step.objects.get(category=uni.category, title="图书馆")
    page = client.post(
        reverse("console:step_delete", args=[uni.category.pk, library.pk]), follow=True
    )
    assert "已用于 3 份离校单，不能删除" in page.content.decode()
    spare = Category.objects.create(name="空类别")
    step = Step.objects.create(category=spare, title="临时", owner_type="college")
    client.post(reverse("console:step_delete", args=[spare.pk, step.pk]))
    assert not Step.objects.filter(pk=step.pk).exists()
    assert last_event("console.step.deleted").data["title"] == "临时"


def test_move_up_with_htmx_returns_the_steps_partial(uni):
    client = client_for(uni.office)
    finance = Step.objects.get(category=uni.category, title="财务处")
    response = client.post(
        reverse("console:step_move", args=[uni.category.pk, finance.pk, "up"]),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="steps"')
    assert html.index("财务处") < html.index("图书馆")
    titles = list(
        Step.objects.filter(category=uni.category).order_by("order").values_list("title", flat=True)
    )
    assert titles[:2] == ["财务处", "图书馆"]
    # Without htmx the same POST redirects back to the category page.
    response = client.post(reverse("console:step_move", args=[uni.category.pk, finance.pk, "down"]))
    assert response.status_code == 302
    assert Step.objects.get(pk=finance.pk).order == 2
    assert last_event("console.step.moved").data["direction"] == "down"
