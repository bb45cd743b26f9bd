"""Service settings: the survey switch, the question editor, results with counts and export."""

import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from lixiao.survey.models import Question, Response
from tests.conftest import client_for
from tests.console.setup_helpers import last_event

pytestmark = pytest.mark.django_db


def test_switch_on_and_write_questions(uni):
    client = client_for(uni.office)
    client.post(reverse("console:service", args=[uni.category.pk]), {"survey_enabled": "on"})
    uni.category.refresh_from_db()
    assert uni.category.survey_enabled
    assert last_event("console.category.service_updated").data["survey_enabled"] is True
    url = reverse("console:question_create", args=[uni.category.pk])
    page = client.post(
        url, {"text": "满意度", "kind": "single", "required": "on", "choices_text": "满意"}
    )
    assert "至少需要两个选项" in page.content.decode()
    client.post(
        url,
        {
            "text": "满意度",
            "kind": "single",
            "required": "on",
            "choices_text": "满意\n一般\n不满意",
        },
    )
    client.post(url, {"text": "建议", "kind": "text", "choices_text": "会被忽略"})
    single, text = Question.objects.filter(category=uni.category).order_by("order")
    assert single.choices == ["满意", "一般", "不满意"] and single.required
    assert text.choices == [] and not text.required and text.order == 2


def answered(uni):
    q1 = Question.objects.create(
        category=uni.category, order=1, text="满意度", kind="single", choices=["满意", "一般"]
    )
    q2 = Question.objects.create(
        category=uni.category,
        order=2,
        text="去向",
        kind="multiple",
        choices=["就业", "深造", "=HYPERLINK(1)"],
    )
    q3 = Question.objects.create(
        category=uni.category, order=3, text="建议", kind="text", required=False
    )
    Response.objects.create(
        form=uni.form,
        answers={str(q1.id): "满意", str(q2.id): ["就业", "深造"], str(q3.id): "食堂很好"},
    )
    Response.objects.create(
        form=uni.form_lit, answers={str(q1.id): "满意", str(q2.id): ["=HYPERLINK(1)"]}
    )
    return q1, q2, q3


def test_results_count_options_and_list_free_text(uni):
    q1, _q2, _q3 = answered(uni)
    page = (
        client_for(uni.office)
        .get(reverse("console:survey_results", args=[uni.category.pk]))
        .content.decode()
    )
    assert "2 份答卷" in page and "食堂很好" in page
    assert "100.0%" in page  # 满意 2 of 2


def test_export_has_a_row_per_answer_sheet_and_no_formulas(uni):
    answered(uni)
    response = client_for(uni.office).get(reverse("console:survey_export", args=[uni.category.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(response.content))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows[0][2:] == ["满意度", "去向", "建议"]
    assert len(rows) == 3
    assert any(str(cell).startswith("'=") for row in rows for cell in row)
    assert last_event("console.survey.exported").actor == uni.office


def test_questions_with_answers_cannot_be_deleted(uni):
    q1, _q2, _q3 = answered(uni)
    page = (
        client_for(uni.office)
        .post(reverse("console:question_delete", args=[uni.category.pk, q1.pk]), follow=True)
        .content.decode()
    )
    assert "已有 2 名学生提交问卷" in page
    assert Question.objects.filter(pk=q1.pk).exists()
