"""Handler pages (现场办理): batches, scoped search, export, one student's form, pass/revoke, live panels."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.roles import available, grants
from lixiao.appointments import queries as appointments
from lixiao.appointments import services as appointment_services
from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Record, Source, State
from lixiao.clearance.rules import Refused
from lixiao.desk.access import actor, desk_required, is_partial, reach_for
from lixiao.desk.counter import token_in
from lixiao.desk.filters import SearchForm, query_string
from lixiao.directory import idnumbers
from lixiao.integrations.queries import form_freshness
from lixiao.objections.models import Objection
from lixiao.tabular.writer import export as xlsx_export

PAGE_SIZE = 50
# What a result row shows (desk/_results.html): the rest of a student's row stays in the database.
RESULT_FIELDS = (
    "id",
    "completed_at",
    "student__student_number",
    "student__name",
    "student__class_name",
    "student__id_number_masked",
    "college__name",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@desk_required
def home(request):
    held = grants(request)
    batches = scope.batches(request.user, held)
    # One statistics call for all batches: the page's queries do not grow with batches or steps.
    panels = [
        {"batch": b, "stats": stats}
        for b, stats in queries.desk_statistics(request.user, batches, held)
    ]
    tools = {
        # A college lead grants its own college's steps to its counselors (SPEC: delegation).
        "delegate": bool(scope.lead_grants(request.user)),
        # Departments ask the office to add or remove their steps before its deadline.
        "change_requests": "department" in available(request),
    }
    return render(request, "desk/home.html", {"panels": panels, "tools": tools})


def _search(reach, data):
    form = SearchForm(data, reach.steps, reach.colleges)
    return form, queries.search(reach, form.filters())


@desk_required
def batch(request, batch_id: int):
    reach = reach_for(request, batch_id)
    batch, steps = reach.batch, reach.steps
    # An ID number is searched by POST (the page's script switches the method) so that it never
    # lands in a URL, a proxy's access log or the browser history; the box shows it masked.
    data = request.POST if request.method == "POST" else request.GET
    code = token_in(data.get("q", ""))
    if code:  # a desk scanner typed a student's 离校码 (its URL) into the box
        return redirect(reverse("desk:code", args=[code]))
    form, forms = _search(reach, data)
    query = query_string(data)
    if queries.is_id_number(form.filters().q):
        found = list(forms.values_list("student__student_number", flat=True)[:2])
        query = query_string(_replace_q(data, found[0] if len(found) == 1 else ""))
        form = SearchForm(
            _replace_q(data, idnumbers.mask(data.get("q", ""))), steps, reach.colleges
        )
    page = result_page(forms.only(*RESULT_FIELDS), data.get("page"))
    queries.attach_cells(page.object_list, steps)
    # The page's links are all under the batch's URL: reversed once, not once per link and row
    # (desk/urls.py names them: import/, objections/, stats/, recent/, bulk/, export.xlsx, f/<id>/).
    here = reverse("desk:batch", args=[batch.id])
    context = {
        "batch": batch,
        "steps": steps,
        # 今日预约: once one of my steps takes appointments, or to the department that may open them.
        "appointments": _appointments_offered(request, reach),
        "search": form,
        "page": page,
        "query": query,
        "here": here,
    }
    if is_partial(request) and request.headers.get("HX-Target") == "results":
        return render(request, "desk/_results.html", context)
    return render(request, "desk/batch.html", context)


def _appointments_offered(request, reach) -> bool:
    manual = [s for s in reach.steps if not s.automatic]
    if not manual:
        return False
    held = grants(request)
    if any(
        appointment_services.may_configure(request.user, reach.batch.id, s.id, held) for s in manual
    ):
        return True
    return bool(appointments.plans_for_steps(reach.batch, manual))


def result_page(forms, number):
    """The requested page; on the first page one extra row tells whether a COUNT is needed.

    Most desk searches (one 学号, one name) fit on the first page, where the row count is
    simply the number of rows: the COUNT over the joined search would cost as much again.
    """
    if number not in (None, "", "1"):
        page = Paginator(forms, PAGE_SIZE).get_page(number)
        page.object_list = list(page.object_list)
        return page
    rows = list(forms[: PAGE_SIZE + 1])
    if len(rows) <= PAGE_SIZE:
        return Paginator(rows, PAGE_SIZE).page(1)
    page = Paginator(forms, PAGE_SIZE).page(1)
    page.object_list = rows[:PAGE_SIZE]
    return page


def _replace_q(data, q: str):
    data = data.copy()
    data["q"] = q
    return data


def _open_objections(reach) -> int:
    """Messages from students on my steps not yet answered (the unread count).

    The open messages are few: read them first, then ask the gate which of their forms are mine,
    instead of a subquery over every form of the batch on each 5-second poll.
    """
    open_ = Objection.objects.filter(
        form__batch=reach.batch, step__in=reach.steps, status=Objection.Status.OPEN
    ).values_list("step_id", "form__college_id", "form__counselor_id")
    return sum(
        1 for step_id, college, counselor in open_ if reach.may_handle(step_id, college, counselor)
    )


@desk_required
def export(request, batch_id: int):
    """The search result as .xlsx: scoped like the page, ID masked, formulas neutralised, audited."""
    reach = reach_for(request, batch_id)
    batch, steps = reach.batch, reach.steps
    _form, forms = _search(reach, request.GET)
    forms = queries.with_records(forms, [s.id for s in steps])
    headers = [
        "学号",
        "姓名",
        "院系",
        "专业",
        "班级",
        "学生类别",
        "政治面貌",
        "身份证件号（脱敏）",
        *(s.title for s in steps),
        "办结情况",
    ]
    count = 0

    def rows():
        nonlocal count
        for f in forms.iterator(chunk_size=2000):
            count += 1
            states = {r.step_id: r.get_state_display() for r in f.records.all()}
            s = f.student
            yield [
                s.student_number,
                s.name,
                f.college.name,
                s.major,
                s.class_name,
                s.student_type,
                s.political_status,
                s.id_number_masked,
                *(states.get(st.id, "") for st in steps),
                "已办结" if f.completed_at else "未办结",
            ]

    # The file is a shared record with Chinese headers: its state words too, whatever the
    # language of the page that asked for it.
    with translation.override(settings.LANGUAGE_CODE):
        data = xlsx_export(headers, rows(), sheet="现场办理")
    services.log(
        actor(request, Source.DESK),
        "desk.export",
        batch=batch,
        data={
            "rows": count,
            "query": query_string(request.GET)[:500],
            "steps": [s.id for s in steps],
        },
    )
    response = HttpResponse(data, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="desk-{batch.id}-{stamp}.xlsx"'
    return response


@desk_required
def stats(request, batch_id: int):
    """实时统计: polled by the page, and refreshed at once after the person's own changes."""
    reach = reach_for(request, batch_id)
    batch = reach.batch
    rows = queries.step_statistics(reach)
    today = queries.handled_today(reach)
    # 今日预约: booked versus served today on my steps that take appointments.
    plans = appointments.plans_for_steps(batch, reach.steps)
    booked = appointments.day_counts(reach, plans, timezone.localdate()) if plans else {}
    return render(
        request,
        "desk/_stats.html",
        {
            "batch": batch,
            "rows": [(r, today.get(r.step.id, 0)) for r in rows],
            "now": timezone.localtime(),
            "open_objections": _open_objections(reach),
            "appointments": [(s, booked[s.id]) for s in reach.steps if s.id in booked],
        },
    )


@desk_required
def recent(request, batch_id: int):
    """最近办理: my latest 50 changes in this batch."""
    reach = reach_for(request, batch_id)
    events = queries.recent_actions(reach)
    return render(request, "desk/_recent.html", {"batch": reach.batch, "events": events})


def _detail_context(request, reach, form_id: int) -> dict:
    form = queries.form_detail(form_id, reach.forms())
    if form is None:
        raise Http404
    handleable = reach.handleable(form)  # which of my steps I may change on this form
    freshness = form_freshness(form)  # when each automatic step's data last arrived
    for record in form.records.all():
        record.freshness = freshness.get(record.step_id)
    passed, counted = queries.progress(form)
    return {
        "batch": reach.batch,
        "form": form,
        "student": form.student,
        "handleable": handleable,
        "passed": passed,
        "counted": counted,
        "query": request.GET.get("back", ""),
    }


@desk_required
def detail(request, batch_id: int, form_id: int):
    reach = reach_for(request, batch_id)
    return render(request, "desk/detail.html", _detail_context(request, reach, form_id))


@require_POST
@desk_required
def act(request, batch_id: int, record_id: int, action: str):
    """Pass or revoke one record; htmx gets the form back in place (with the refusal, if any)."""
    reach = reach_for(request, batch_id)
    batch = reach.batch
    record = Record.objects.filter(pk=record_id, form__batch=batch).only("id", "form_id").first()
    if record is None or action not in ("pass", "revoke"):
        raise Http404
    to_state = State.PASSED if action == "pass" else State.PENDING
    note = request.POST.get("note", "").strip()[:255]
    error = None
    try:
        services.set_state(actor(request, Source.DESK), record.id, to_state, note)
    except services.NotFound:
        raise Http404 from None
    except Refused as refusal:
        error = str(refusal)
    if not is_partial(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request, _("已办理通过") if action == "pass" else _("已撤销，环节恢复为未办理")
            )
        return redirect(reverse("desk:form", args=[batch.id, record.form_id]))
    context = _detail_context(request, reach, record.form_id)
    context.update(
        {
            "error": error,
            "error_record": record.id,
            "done": None if error else action,
            "done_record": record.id,
        }
    )
    response = render(request, "desk/_form.html", context)
    if not error:
        response["HX-Trigger"] = "stats-changed"
    return response
