"""The survey (调查问卷) of a category: the office's questions, and a student's one submission
(which passes the survey-bound steps through the writer)."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from lixiao.clearance.models import Category, Form, Source, State, Step
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import audit
from lixiao.clearance.services.base import Actor, Item, require_office
from lixiao.clearance.services.commit import require_writable
from lixiao.clearance.services.records import apply_many
from lixiao.clearance.services.versions import categories_changed, forms_changed
from lixiao.survey.models import Question, Response

QUESTION_FIELDS = ("text", "kind", "required", "choices")


def _question_data(q: Question) -> dict:
    return {
        "category": q.category_id,
        "question": q.id,
        "text": q.text,
        "kind": q.kind,
        "required": q.required,
        "choices": q.choices,
    }


def save_question(
    actor: Actor, category: Category, question: Question | None, fields: dict
) -> Question:
    """Add a question at the end, or change one; the students' page shows it at once."""
    require_office(actor)
    creating = question is None
    with transaction.atomic():
        q = question or Question(category=category)
        for name in QUESTION_FIELDS:
            if name in fields:
                setattr(q, name, fields[name])
        if creating:
            last = Question.objects.filter(category=category).aggregate(m=Max("order"))["m"]
            q.order = (last or 0) + 1
        q.save()
        categories_changed([category.pk])
        audit.log(
            actor,
            "console.question.created" if creating else "console.question.updated",
            data=_question_data(q),
        )
    return q


def delete_question(actor: Actor, question: Question) -> None:
    """Refused once any student has answered: their answers would no longer add up."""
    require_office(actor)
    with transaction.atomic():
        answered = Response.objects.filter(form__batch__category_id=question.category_id).count()
        if answered:
            raise Refused(
                _(
                    "已有 %(n)s 名学生提交问卷，删除题目会使其答卷无法统计，不能删除；"
                    "可修改题目文字或将其设为非必答。"
                )
                % {"n": answered},
                "answered",
            )
        audit.log(
            actor,
            "console.question.deleted",
            data={
                "category": question.category_id,
                "question": question.id,
                "text": question.text,
            },
        )
        categories_changed([question.category_id])
        question.delete()


def submit_survey(student_user, form: Form, answers: dict, client_ip: str | None = None) -> bool:
    """Store a student's answers once and pass the survey-bound steps; False if already answered.

    `form` must be the student's own (the portal reads it through the gate).
    """
    try:
        with transaction.atomic():
            require_writable(form.batch)  # Archived (a Refused) propagates: nothing is stored
            Response.objects.create(form=form, answers=answers)
            forms_changed([form.id])  # the page shows when the survey was submitted
            actor = Actor(
                user=student_user, source=Source.SURVEY, client_ip=client_ip, trusted=True
            )
            for step in Step.objects.filter(category_id=form.batch.category_id, survey_bound=True):
                # Refused items (a step not applicable to this student) are reported, not applied.
                apply_many(actor, form.batch, step, [Item(form.id, State.PASSED)])
    except IntegrityError:
        return False
    return True
