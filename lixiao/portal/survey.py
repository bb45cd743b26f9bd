"""The survey (调查问卷): answered once per form; a survey-bound step passes through the writer."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance import queries, services
from lixiao.survey.models import Question, Response

MAX_TEXT = 1000


def _form(request, form_id: int):
    form = queries.student_forms(request.user).filter(pk=form_id).first()
    if form is None or not form.batch.category.survey_enabled:
        raise Http404
    return form


def read_answers(questions, post) -> tuple[dict, dict]:
    """(answers, errors) from the posted form; errors by question id, in the active language."""
    answers, errors = {}, {}
    for q in questions:
        key = f"q{q.id}"
        if q.kind == Question.Kind.MULTIPLE:
            value = [v for v in post.getlist(key) if v in q.choices]
            if len(value) != len(post.getlist(key)):
                errors[q.id] = _("请从给出的选项中选择")
        elif q.kind == Question.Kind.SINGLE:
            value = post.get(key, "")
            if value and value not in q.choices:
                errors[q.id] = _("请从给出的选项中选择")
        else:
            value = post.get(key, "").strip()
            if len(value) > MAX_TEXT:
                errors[q.id] = _("不能超过 %(max)s 字") % {"max": MAX_TEXT}
        if q.required and not value and q.id not in errors:
            errors[q.id] = _("此题为必答题")
        answers[str(q.id)] = value
    return answers, errors


@role_required("student")
def survey(request, form_id: int):
    form = _form(request, form_id)
    questions = list(Question.objects.filter(category_id=form.batch.category_id))
    if not questions:
        raise Http404
    response = Response.objects.filter(form=form).first()
    answers, errors = (response.answers if response else {}), {}
    if request.method == "POST" and response is None:
        if form.batch.window_state() != "open":
            messages.error(request, _("本批次不在办理时间内，不能提交问卷"))
            return redirect("portal:survey", form_id=form.id)
        answers, errors = read_answers(questions, request.POST)
        if not errors:
            if services.submit_survey(request.user, form, answers, client_ip=client_ip(request)):
                messages.success(request, _("问卷已提交，感谢您的参与"))
            else:
                messages.info(request, _("您已提交过问卷"))
            return redirect("portal:survey", form_id=form.id)
    rows = [
        {
            "q": q,
            "answer": answers.get(str(q.id), [] if q.kind == "multiple" else ""),
            "error": errors.get(q.id, ""),
        }
        for q in questions
    ]
    return render(
        request,
        "portal/survey.html",
        {
            "form": form,
            "rows": rows,
            "response": response,
            "errors": errors,
            "open": form.batch.window_state() == "open",
        },
        status=400 if errors else 200,
    )
