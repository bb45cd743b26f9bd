"""Service settings (学生服务设置): the survey switch, its questions, and its results with export."""

from collections import Counter

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.clearance.models import Batch, Category
from lixiao.console.access import audit, office_view
from lixiao.console.forms.survey import QuestionForm, ServiceForm
from lixiao.console.views.categories import setup_context
from lixiao.survey.models import Question, Response
from lixiao.tabular import writer


@office_view
def service(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    form = ServiceForm(request.POST or None, initial={"survey_enabled": category.survey_enabled})
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["survey_enabled"]
        if enabled != category.survey_enabled:
            with transaction.atomic():
                category.survey_enabled = enabled
                category.save(update_fields=["survey_enabled"])
                audit(
                    request,
                    "console.category.service_updated",
                    data={"category": category.id, "survey_enabled": enabled},
                )
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
        creating = question is None
        with transaction.atomic():
            q = form.save(commit=False)
            q.category = category
            if creating:
                last = (
                    Question.objects.filter(category=category)
                    .order_by("-order")
                    .values_list("order", flat=True)
                )
                q.order = (last.first() or 0) + 1
            q.save()
            audit(
                request,
                "console.question.created" if creating else "console.question.updated",
                data={
                    "category": category.id,
                    "question": q.id,
                    "text": q.text,
                    "kind": q.kind,
                    "required": q.required,
                    "choices": q.choices,
                },
            )
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
        answered = Response.objects.filter(form__batch__category_id=category_id).count()
        if answered:
            messages.error(
                request,
                _(
                    "已有 %(n)s 名学生提交问卷，删除题目会使其答卷无法统计，不能删除；"
                    "可修改题目文字或将其设为非必答。"
                )
                % {"n": answered},
            )
        else:
            with transaction.atomic():
                audit(
                    request,
                    "console.question.deleted",
                    data={"category": category_id, "question": question.id, "text": question.text},
                )
                question.delete()
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
