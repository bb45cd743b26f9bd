"""What the student's form page shows, read in a fixed number of queries however many steps."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments import queries as appointments
from lixiao.appointments.models import Booking
from lixiao.clearance import queries, rules
from lixiao.clearance.models import Event, Form, Record, Source, State
from lixiao.integrations.models import SourceRow
from lixiao.objections.models import Objection
from lixiao.survey.models import Question

SOURCE_LABELS = dict(Source.choices)
STATE_LABELS = dict(State.choices)


@dataclass
class HistoryLine:
    at: object
    unit: str  # the department or college that acted, or the system source (数据同步 …)
    who: str  # the handler's personal name, only when the office allows it
    from_label: str
    to_label: str
    note: str

    @property
    def text(self) -> str:
        """Who acted and the change, in the active language (the note is the actor's own words)."""
        values = {
            "unit": self.unit, "who": self.who, "from": self.from_label, "to": self.to_label,
            "note": self.note,
        }  # fmt: skip
        if self.who and self.note:
            return _("%(unit)s（%(who)s）：%(from)s → %(to)s，%(note)s") % values
        if self.who:
            return _("%(unit)s（%(who)s）：%(from)s → %(to)s") % values
        if self.note:
            return _("%(unit)s：%(from)s → %(to)s，%(note)s") % values
        return _("%(unit)s：%(from)s → %(to)s") % values


@dataclass
class StepView:
    record: Record
    step: object
    contact: str
    unit: str
    why_grey: str = ""
    source_at: object = None
    source_stale: bool = False
    # Pending after its deadline: it turns with the date, which page_cache keys on.
    overdue: bool = False
    history: list[HistoryLine] = field(default_factory=list)
    messages: list[Objection] = field(default_factory=list)
    # 预约办理: the step takes appointments (while pending), and the open booking of it.
    bookable: bool = False
    booking: Booking | None = None


@dataclass
class FormView:
    form: Form
    window: str
    passed: int
    counted: int
    steps: list[StepView]
    survey: bool  # the category shows a survey with questions
    survey_done: object  # the submission time, or None

    @property
    def can_message(self) -> bool:
        return self.window == "open"


def _fresh_subquery(student_number: str):
    # When the source last delivered this student's row (falls back to when it last changed).
    return Subquery(
        SourceRow.objects.filter(
            source_id=OuterRef("step__source_id"), student_number=student_number
        )
        .annotate(at=Coalesce("checked_at", "updated_at"))
        .values("at")[:1]
    )


def student_forms(user) -> list[Form]:
    """The student's forms, latest batch first, with batch, category, student and survey: one query.

    Read on every visit of /me/ (the page cache's key comes from these rows), so it carries
    no subquery: whether a category has survey questions is asked in student_page.
    """
    return list(
        queries.student_forms(user)
        .select_related("student", "student__college", "survey_response")
        .order_by("-batch__opens_at", "-batch_id")
    )


def _categories_with_questions(forms: list[Form]) -> set[int]:
    # Asked only for categories that show a survey at all: most forms need no query here.
    ids = {f.batch.category_id for f in forms if f.batch.category.survey_enabled}
    if not ids:
        return set()
    return set(
        Question.objects.filter(category_id__in=ids)
        .values_list("category_id", flat=True)
        .distinct()
    )


def student_page(user, forms: list[Form] | None = None) -> list[FormView]:
    """Every form of this student (latest batch first) with steps, history and messages.

    Four queries: forms (unless given, as read by `student_forms`), records (with steps,
    departments, sources, the source rows' times and appointments), audit events of those
    records, and the student's messages; one more when a category shows a survey (does it have
    questions), one more when the student has an open booking (its slot).
    """
    if forms is None:
        forms = student_forms(user)
    if not forms:
        return []
    student = forms[0].student
    records = appointments.annotate_records(
        Record.objects.select_related("step", "step__department", "step__source")
        .annotate(source_at=_fresh_subquery(student.student_number))
        .order_by("step__order", "step_id")
    )
    prefetch_related_objects(forms, Prefetch("records", queryset=records))
    form_ids = [f.id for f in forms]
    with_questions = _categories_with_questions(forms)
    history = _history(form_ids)
    messages = defaultdict(list)
    for message in Objection.objects.filter(form_id__in=form_ids).order_by("created_at", "id"):
        messages[message.record_id].append(message)
    # Only a student with an open booking pays a query for it (its slot's times).
    bookings = appointments.bookings(r.open_booking for f in forms for r in f.records.all())
    now = timezone.now()
    result = []
    for form in forms:
        passed, counted = queries.progress(form)
        steps = [
            _step_view(record, form, history.get(record.id, []), messages.get(record.id, []), now)
            for record in form.records.all()
        ]
        for view in steps:
            view.booking = bookings.get(view.record.open_booking)
            view.bookable = view.record.state == State.PENDING and view.record.appointment_open
        response = getattr(form, "survey_response", None)
        result.append(
            FormView(
                form=form,
                window=form.batch.window_state(now),
                passed=passed,
                counted=counted,
                steps=steps,
                survey=form.batch.category_id in with_questions,
                survey_done=response.submitted_at if response else None,
            )
        )
    return result


def _step_view(record: Record, form: Form, history, messages, now) -> StepView:
    step = record.step
    department = step.department
    unit = department.name if department else form.student.college.name
    contact = (
        step.contact
        or (department.contact if department else "")
        or _("请联系%(unit)s") % {"unit": unit}
    )
    view = StepView(
        record=record, step=step, contact=contact, unit=unit, history=history, messages=messages
    )
    if step.deadline and record.state == State.PENDING:
        view.overdue = step.deadline < timezone.localdate(now)
    if record.state == State.NOT_REQUIRED:
        view.why_grey = rules.describe(step.condition) or _("根据您的学生信息，该环节无需办理")
    if step.automatic and step.source_id:
        view.source_at = record.source_at
        hours = step.source.stale_after_hours
        if record.source_at and hours:
            view.source_stale = record.source_at < now - timedelta(hours=hours)
    return view


def _history(form_ids) -> dict[int, list[HistoryLine]]:
    """Each record's audit trail, oldest first, in one query (plain rows: no model objects)."""
    show_names = settings.LIXIAO_SHOW_HANDLER_NAMES
    rows = (
        Event.objects.filter(form_id__in=form_ids, record__isnull=False)
        .order_by("at", "id")
        .values_list(
            "record_id", "at", "source", "from_state", "to_state", "note",
            "actor__staff__name", "actor__staff__department__name", "actor__staff__college__name",
        )
    )  # fmt: skip
    lines: dict[int, list[HistoryLine]] = defaultdict(list)
    for record_id, at, source, from_state, to_state, note, name, department, college in rows:
        lines[record_id].append(
            HistoryLine(
                at=at,
                unit=_unit(source, department or college),
                who=(name or "") if show_names else "",
                from_label=STATE_LABELS.get(from_state, from_state),
                to_label=STATE_LABELS.get(to_state, to_state),
                note=note,
            )
        )
    return lines


def _unit(source: str, place: str | None) -> str:
    """Who acted, as the student may see it: the handler's unit, or the system that did it."""
    label = SOURCE_LABELS.get(source, source)
    if source in ("desk", "bulk", "import", "api") and place:
        return _("%(place)s（%(source)s）") % {"place": place, "source": label}
    if source == "admin":
        return _("学生离校工作主管部门")
    return str(label)


def mask_name(name: str) -> str:
    """陈小明 → 陈*明, 陈明 → 陈*: enough for the diploma desk to match a face, no more."""
    if len(name) <= 1:
        return name + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
