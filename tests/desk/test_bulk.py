"""Bulk pass/revoke: ticked students or all matching; one audit group; a summary with reasons."""

import pytest

from lixiao.clearance.models import Event, Record, State
from tests import factories as f
from tests.conftest import record
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db


def test_bulk_pass_of_ticked_students_with_summary(uni, as_user):
    step = record(uni.form, "学生公寓").step
    page = as_user(uni.dorm).post(
        desk_url(uni.batch, "bulk/"),
        {
            "step": step.id,
            "action": "pass",
            "form": [uni.form.id, uni.form_lit.id],
            "note": "批量",
        },
    )
    assert page.status_code == 200
    summary = page.content.decode()
    assert "已办理通过：<strong>2</strong>" in summary
    assert record(uni.form, "学生公寓").state == State.PASSED
    assert record(uni.form_cs2, "学生公寓").state == State.PENDING
    groups = set(
        Event.objects.filter(step=step, action="clearance.record.passed").values_list(
            "group", flat=True
        )
    )
    assert (
        len(groups) == 1
        and Event.objects.filter(action="clearance.bulk.applied", group__in=groups).exists()
    )
    assert set(Event.objects.filter(step=step).values_list("source", flat=True)) == {"bulk"}


def test_bulk_all_matching_reruns_the_search_and_lists_refusals(uni, as_user):
    step = record(uni.form, "组织关系转移").step
    page = as_user(uni.counselor_cs).post(
        desk_url(uni.batch, "bulk/"),
        {
            "step": step.id,
            "action": "pass",
            "scope": "all",
            "query": "q=2022",
        },
    )
    body = page.content.decode()
    # Only the party member has the step; the other CS student is refused with the reason.
    assert "已办理通过：<strong>1</strong>" in body and "未能办理：<strong>1</strong>" in body
    assert "2022000005" in body and "无需办理" in body
    assert "2022000003" not in body  # another college: not even tried
    assert record(uni.form_lit, "组织关系转移").state == State.NOT_REQUIRED


def test_bulk_final_step_refused_per_student_and_already_so_counted(uni, as_user):
    f.pass_prerequisites(uni.form, uni.office)
    final = record(uni.form, "院系离校").step
    c = as_user(uni.counselor_cs)
    body = c.post(
        desk_url(uni.batch, "bulk/"),
        {"step": final.id, "action": "pass", "form": [uni.form.id, uni.form_cs2.id]},
    ).content.decode()
    assert "已办理通过：<strong>1</strong>" in body and "尚未通过" in body and "2022000005" in body
    body = c.post(
        desk_url(uni.batch, "bulk/"), {"step": final.id, "action": "pass", "form": [uni.form.id]}
    ).content.decode()
    assert "无变化）：<strong>1</strong>" in body


def test_bulk_revoke(uni, as_user):
    rec = record(uni.form, "学生公寓")
    c = as_user(uni.dorm)
    c.post(
        desk_url(uni.batch, "bulk/"), {"step": rec.step_id, "action": "pass", "form": [uni.form.id]}
    )
    c.post(
        desk_url(uni.batch, "bulk/"),
        {"step": rec.step_id, "action": "revoke", "form": [uni.form.id]},
    )
    rec.refresh_from_db()
    assert rec.state == State.PENDING


def test_bulk_on_guessed_forms_outside_scope_changes_nothing_and_names_no_one(uni, as_user):
    step = record(uni.form, "院系离校").step
    f.pass_prerequisites(uni.form_lit, uni.office)
    body = (
        as_user(uni.counselor_cs)
        .post(
            desk_url(uni.batch, "bulk/"),
            {"step": step.id, "action": "pass", "form": [uni.form_lit.id]},
        )
        .content.decode()
    )
    assert "不在您的办理范围内" in body and "林同学" not in body and "2022000003" not in body
    assert record(uni.form_lit, "院系离校").state == State.PENDING


def test_bulk_on_a_step_not_mine_is_404(uni, as_user):
    step = record(uni.form, "图书馆").step
    response = as_user(uni.dorm).post(
        desk_url(uni.batch, "bulk/"), {"step": step.id, "action": "pass", "form": [uni.form.id]}
    )
    assert response.status_code == 404
    assert not Record.objects.filter(step=step, state=State.PASSED).exists()


def test_bulk_without_selection_says_so(uni, as_user):
    step = record(uni.form, "学生公寓").step
    page = as_user(uni.dorm).post(
        desk_url(uni.batch, "bulk/"), {"step": step.id, "action": "pass"}, follow=True
    )
    assert "请先勾选学生" in page.content.decode()
