"""The desk over REST (/api/v1/desk/): my batches, scoped search, one form, pass/revoke.

Session auth with CSRF (the same login and gate as the pages); every call starts from `scope`
and every change goes through the one writer with source "api".
"""

from datetime import datetime
from typing import Literal

from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.security import SessionAuth
from pydantic import BaseModel

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants
from lixiao.api.errors import ApiError, Problem, Refusal
from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Form, Record, Source, State
from lixiao.clearance.queries import MAX_QUERY, roles_of
from lixiao.directory.models import POLITICAL_STATUSES, StudentType

DESK_ROLES = {"department", "counselor", "office"}
PAGE_SIZE = 50
NOTE_MAX = 255  # Record.note's length


class DeskSession(SessionAuth):
    """A logged-in handler or office person; unsafe methods need the CSRF token (X-CSRFToken)."""

    openapi_description = (
        "登录后的会话 Cookie（与页面相同的登录）。The session cookie of a login to the site."
    )
    # What this auth answers besides 401, for the schema (openapi.LixiaoSchema).
    refusals = {403: "没有现场办理权限，或 CSRF 校验失败 · No desk role, or the CSRF check failed"}

    def __call__(self, request):
        # Whether anyone is logged in comes first: an anonymous POST is told to log in (401),
        # not that its CSRF token is missing (403).
        if not request.user.is_authenticated:
            raise Problem(401, "not_authenticated", _("未登录或登录已过期：请先登录"))
        return super().__call__(request)  # the CSRF check for unsafe methods, then authenticate

    def authenticate(self, request, key):
        user = request.user
        if not DESK_ROLES & set(roles_of(user)):
            raise Problem(403, "forbidden", _("您没有现场办理的权限"))  # as the pages
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
    window: Literal["not_yet", "open", "closed"] = Field(
        description="服务时间：not_yet 尚未开始，open 办理中，closed 已结束（办理人员不能再更改）"
    )
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
    state: Literal[*State.values] = Field(
        description="not_required 无需办理（灰），pending 未办理（红），passed 已办理（绿）"
    )
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


class NoteIn(BaseModel):
    # pydantic's own model, not ninja's Schema: that one reads attributes of anything it is given,
    # so a body of [] or 5 would pass as "no note" instead of being refused.
    note: str = Field("", max_length=NOTE_MAX, description="备注（可选，最多 255 个字符）")


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


def _text(description: str):
    return Query("", max_length=MAX_QUERY, description=description)


@router.get(
    "/batches/{batch_id}/forms",
    response={200: FormPage, 404: ApiError},
    summary="查询学生（与页面相同的范围和条件）",
    description="条件可组合，空值表示不限；另可按环节状态筛选："
    "s<环节id>=pending|passed|not_required（环节 id 见 GET batches 的 steps），不属于您的环节或其他取值时不限。"
    "每页 50 条。",
)
def forms(
    request,
    batch_id: int,
    q: str = _text("学号（精确或前缀）、姓名（包含）或身份证件号（精确）"),
    college: int | None = Query(None, description="院系 id；不在您范围内的院系视为不限"),
    major: str = _text("专业"),
    class_name: str = _text("班级"),
    student_type: Literal["", *StudentType.values] = Query("", description="学生类别"),
    political_status: Literal["", *POLITICAL_STATUSES] = Query(
        "", description="政治面貌（GB/T 4762 名称）"
    ),
    completed: Literal["", "yes", "no"] = Query("", description="yes 已办结，no 未办结"),
    page: int = Query(1, ge=1, description="页码，从 1 开始；超过末页时给出末页"),
):
    # The typed parameters above check and document the query; the filters themselves are read by
    # the one parser every surface shares (with the s<step id> ones).
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


@router.get("/forms/{form_id}", response={200: FormOut, 404: ApiError}, summary="一名学生的离校单")
def form(request, form_id: int):
    return _form_out(*_form(request, form_id))


def _change(request, record_id: int, to_state: str, body: NoteIn | None):
    """One record through the writer; NotFound (404) and Refused (409) answer through errors."""
    actor = services.Actor(user=request.user, source=Source.API, client_ip=client_ip(request))
    note = body.note.strip() if body else ""
    record = services.set_state(actor, record_id, to_state, note).record
    return _record(record, {record.step_id})  # as this call left it, not as a later writer may have


_CHANGE_RESPONSES = {200: RecordOut, 404: ApiError, 409: Refusal}


@router.post(
    "/records/{record_id}/pass",
    response=_CHANGE_RESPONSES,
    summary="办理通过一个环节",
    description="请求体可省略（无备注）。409：规则拒绝（例如院系离校须在其他必办环节通过后办理、"
    "不在服务时间内），detail 为原因，refusal 为规则代码。",
)
def pass_record(request, record_id: int, body: NoteIn | None = None):
    return _change(request, record_id, State.PASSED, body)


@router.post(
    "/records/{record_id}/revoke",
    response=_CHANGE_RESPONSES,
    summary="撤销一个环节（恢复为未办理）",
    description="请求体可省略（无备注）。409：规则拒绝，detail 为原因，refusal 为规则代码。",
)
def revoke_record(request, record_id: int, body: NoteIn | None = None):
    return _change(request, record_id, State.PENDING, body)
