"""Service settings (学生服务设置): the survey switch, its questions, and its results with export."""

from collections import Counter

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Category
from lixiao.console.access import actor, audit, office_view
from lixiao.console.forms.survey import QuestionForm, ServiceForm
from lixiao.console.views.categories import setup_context
from lixiao.survey.models import Question, Response
from lixiao.tabular import writer


@office_view
def service(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    form = ServiceForm(request.POST or None, initial={"survey_enabled": category.survey_enabled})
    if request.method == "POST" and form.is_valid():
        services.set_survey_enabled(actor(request), category, form.cleaned_data["survey_enabled"])
        messages.success(request, _("已保存学生服务设置。"))
        url = reverse("console:service", args=[category.pk])
        return redirect(url + ("?setup=1" if request.GET.get("setup") else ""))
    questions = Question.objects.filter(category=category).order_by("order", "id")
    return render(
        request,
        "console/survey/service.html",
        {
            "category": category,
            "form": form,
            "questions": questions,
            "answered": Response.objects.filter(form__batch__category=category).count(),
            **setup_context(
                request, "service", reverse("console:category_setup_done", args=[category.pk])
            ),
        },
    )


def _question(request, category: Category, question: Question | None):
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        q = services.save_question(actor(request), category, question, form.cleaned_data)
        messages.success(request, _("已保存题目“%(text)s”。") % {"text": q.text})
        return redirect("console:service", category.pk)
    return render(
        request,
        "console/survey/question_form.html",
        {"category": category, "form": form, "question": question},
    )


@office_view
def question_create(request, category_id: int):
    return _question(request, get_object_or_404(Category, pk=category_id), None)


@office_view
def question_edit(request, category_id: int, pk: int):
    question = get_object_or_404(Question, pk=pk, category_id=category_id)
    return _question(request, question.category, question)


@office_view
def question_delete(request, category_id: int, pk: int):
    question = get_object_or_404(Question, pk=pk, category_id=category_id)
    if request.method == "POST":
        try:
            services.delete_question(actor(request), question)
        except services.Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("已删除题目“%(text)s”。") % {"text": question.text})
    return redirect("console:service", category_id)


def _results(category: Category, batch: Batch | None):
    """Per question: counts per option (single/multiple) or the free-text answers."""
    questions = list(Question.objects.filter(category=category).order_by("order", "id"))
    responses = Response.objects.filter(form__batch__category=category)
    if batch is not None:
        responses = responses.filter(form__batch=batch)
    answers = list(responses.values_list("answers", flat=True))
    results = []
    for q in questions:
        key = str(q.id)
        given = [a.get(key) for a in answers if a.get(key) not in (None, "", [])]
        if q.kind == Question.Kind.TEXT:
            results.append(
                {"question": q, "texts": [str(v) for v in given], "answered": len(given)}
            )
            continue
        counts = Counter()
        for value in given:
            counts.update(value if isinstance(value, list) else [value])
        options = [
            {
                "text": o,
                "count": counts.get(o, 0),
                "percent": round(100 * counts.get(o, 0) / len(given), 1) if given else 0,
            }
            for o in q.choices
        ]
        results.append({"question": q, "options": options, "answered": len(given)})
    return questions, answers, results


def _batch_filter(request, category):
    batch_id = request.GET.get("batch")
    return get_object_or_404(Batch, pk=batch_id, category=category) if batch_id else None


@office_view
def survey_results(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    batch = _batch_filter(request, category)
    _questions, answers, results = _results(category, batch)
    return render(
        request,
        "console/survey/results.html",
        {
            "category": category,
            "batch": batch,
            "results": results,
            "total": len(answers),
            "batches": Batch.objects.filter(category=category).order_by("-opens_at"),
        },
    )


@office_view
def survey_export(request, category_id: int):
    """One row per answer sheet, without names or 学号: the survey is read as a whole."""
    category = get_object_or_404(Category, pk=category_id)
    batch = _batch_filter(request, category)
    questions, _answers, _results_ = _results(category, batch)
    responses = Response.objects.filter(form__batch__category=category).select_related(
        "form__batch"
    )
    if batch is not None:
        responses = responses.filter(form__batch=batch)

    def rows():
        for r in responses.order_by("submitted_at", "id").iterator(chunk_size=2000):
            cells = [
                r.form.batch.name,
                timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for q in questions:
                value = r.answers.get(str(q.id), "")
                cells.append("；".join(value) if isinstance(value, list) else str(value))
            yield cells

    content = writer.export(
        ["离校批次", "提交时间", *[q.text for q in questions]], rows(), sheet="问卷结果"
    )
    audit(request, "console.survey.exported", batch=batch, data={"category": category.id})
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''survey-{category.id}.xlsx"
    return response
