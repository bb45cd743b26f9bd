"""The desk over REST (/api/v1/desk/): my batches, scoped search, one form, pass/revoke.

Session auth with CSRF (the same login and gate as the pages); every call starts from `scope`
and every change goes through the one writer with source "api".
"""

from datetime import datetime

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import AuthorizationError
from ninja.responses import Status
from ninja.security import SessionAuth

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants
from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Form, Record, Source, State
from lixiao.clearance.queries import roles_of
from lixiao.clearance.rules import Refused

DESK_ROLES = {"department", "counselor", "office"}
PAGE_SIZE = 50


class DeskSession(SessionAuth):
    """A logged-in handler or office person; unsafe methods need the CSRF token (X-CSRFToken)."""

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None  # 401
        if not DESK_ROLES & set(roles_of(user)):
            raise AuthorizationError(message=_("您没有现场办理的权限"))  # 403, as the pages
        return user


router = Router(tags=["desk"], auth=DeskSession())


class StepOut(Schema):
    id: int
    title: str
    required: bool
    is_final: bool
    automatic: bool


class BatchOut(Schema):
    id: int
    name: str
    academic_year: str
    window: str
    steps: list[StepOut]


class RecordOut(Schema):
    id: int
    step_id: int
    step: str
    # The step's flags on every record, so a client tells 校友会登记 (optional) from a required
    # step, and knows which step waits for all the others, without a second call.
    required: bool = Field(
        description="必办环节（false 为选办，如校友会登记）：办结规则为“必办”时只有必办环节计入"
    )
    is_final: bool = Field(description="最终环节（如院系离校）：其他必办环节全部通过后才能办理")
    applicable: bool = Field(
        description="该环节对这名学生适用；false 即“无需办理”（state 为 not_required），不计入未办理"
    )
    state: str
    state_label: str
    handled_at: datetime | None
    note: str
    reason: str
    can_handle: bool = False


class FormRow(Schema):
    id: int
    student_number: str
    name: str
    college: str
    major: str
    class_name: str
    id_number_masked: str
    completed: bool
    records: list[RecordOut]


class FormPage(Schema):
    count: int
    page: int
    pages: int
    items: list[FormRow]


class FormOut(FormRow):
    batch_id: int
    student_type: str
    political_status: str


class NoteIn(Schema):
    note: str = ""


class Error(Schema):
    detail: str


def _record(r: Record, handleable=frozenset()) -> dict:
    return {
        "id": r.id,
        "step_id": r.step_id,
        "step": r.step.title,
        "required": r.step.required,
        "is_final": r.step.is_final,
        "applicable": r.state != State.NOT_REQUIRED,
        "state": r.state,
        "state_label": r.get_state_display(),
        "handled_at": r.handled_at,
        "note": r.note,
        "reason": r.reason,
        "can_handle": r.step_id in handleable and r.state != State.NOT_REQUIRED,
    }


def _row(f: Form, handleable=frozenset()) -> dict:
    s = f.student
    return {
        "id": f.id,
        "student_number": s.student_number,
        "name": s.name,
        "college": f.college.name,
        "major": s.major,
        "class_name": s.class_name,
        "id_number_masked": s.id_number_masked,
        "completed": f.completed_at is not None,
        "records": [_record(r, handleable) for r in f.records.all()],
    }


def _reach(request, batch_id: int) -> scope.Reach:
    """The person's reach in a batch they handle in; 404 for any other batch."""
    reach = scope.reach(request.user, batch_id, grants(request))
    if reach is None:
        raise Http404
    return reach


@router.get("/batches", response=list[BatchOut], summary="我可办理的批次及我的环节")
def batches(request):
    held = grants(request)
    out = []
    for b in scope.batches(request.user, held):
        reach = scope.reach(request.user, b.id, held)
        out.append(
            {
                "id": b.id,
                "name": b.name,
                "academic_year": b.academic_year,
                "window": b.window_state(),
                "steps": reach.steps if reach else [],
            }
        )
    return out


@router.get(
    "/batches/{batch_id}/forms",
    response={200: FormPage, 404: Error},
    summary="查询学生（与页面相同的范围和条件）",
    description="q：学号（精确或前缀）、姓名（包含）、身份证件号（精确）；college、major、class_name、"
    "student_type、political_status、completed=yes|no、s<环节id>=pending|passed|not_required；page。",
)
def forms(request, batch_id: int, q: str = "", page: int = 1):
    reach = _reach(request, batch_id)
    filters = queries.parse_filters(request.GET, reach.steps, reach.colleges)
    qs = queries.with_records(queries.search(reach, filters), [s.id for s in reach.steps])
    p = Paginator(qs, PAGE_SIZE).get_page(page)
    return {
        "count": p.paginator.count,
        "page": p.number,
        "pages": p.paginator.num_pages,
        "items": [_row(f) for f in p],
    }


def _form(request, form_id: int) -> tuple[Form, scope.Reach]:
    """A form the person may read, in a batch they handle in; 404 for anything else."""
    batch_id = Form.objects.filter(pk=form_id).values_list("batch_id", flat=True).first()
    reach = scope.reach(request.user, batch_id, grants(request)) if batch_id else None
    detail = queries.form_detail(form_id, reach.forms()) if reach else None
    if detail is None:
        raise Http404
    return detail, reach


def _form_out(form: Form, reach: scope.Reach) -> dict:
    return {
        **_row(form, reach.handleable(form)),
        "batch_id": form.batch_id,
        "student_type": form.student.student_type,
        "political_status": form.student.political_status,
    }


@router.get("/forms/{form_id}", response={200: FormOut, 404: Error}, summary="一名学生的离校单")
def form(request, form_id: int):
    return _form_out(*_form(request, form_id))


def _change(request, record_id: int, to_state: str, body: NoteIn):
    actor = services.Actor(user=request.user, source=Source.API, client_ip=client_ip(request))
    try:
        outcome = services.set_state(actor, record_id, to_state, body.note.strip()[:255])
    except services.NotFound:
        return Status(404, {"detail": "Not Found"})
    except Refused as refusal:
        return Status(409, {"detail": str(refusal)})
    record = outcome.record  # as this call left it, not as a later writer may have
    return Status(200, _record(record, {record.step_id}))


@router.post(
    "/records/{record_id}/pass",
    response={200: RecordOut, 404: Error, 409: Error},
    summary="办理通过一个环节",
    description="409：规则拒绝（例如院系离校须在其他必办环节通过后办理），detail 为原因。",
)
def pass_record(request, record_id: int, body: NoteIn):
    return _change(request, record_id, State.PASSED, body)


@router.post(
    "/records/{record_id}/revoke",
    response={200: RecordOut, 404: Error, 409: Error},
    summary="撤销一个环节（恢复为未办理）",
)
def revoke_record(request, record_id: int, body: NoteIn):
    return _change(request, record_id, State.PENDING, body)
