"""Push API for integration sources: POST /api/v1/sources/{code}/rows with the source's Bearer token."""

from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from lixiao import sqlbulk
from lixiao.api.errors import ApiError, FieldError, Problem
from lixiao.api.guard import json_body
from lixiao.integrations.models import PushWindow, SyncRun
from lixiao.integrations.services import rows as source_rows
from lixiao.integrations.services import tokens
from lixiao.integrations.tasks import enqueue_sync

router = Router(tags=["sources"])

# The body is read by hand (source_rows.check_rows reports each bad row as 第 N 行, which a
# pydantic model would not), so its schema is written here; it says no more than check_rows
# accepts: a 学号 may come as a number, and is checked (1–32 characters) after trimming.
_ROW_SCHEMA = {
    "type": "object",
    "required": ["student_number", "cleared"],
    "properties": {
        "student_number": {
            "type": ["string", "integer"],
            "description": "学号（去掉首尾空白后 1–32 个字符；数字也可）",
            "example": "2022000001",
        },
        "cleared": {"type": "boolean", "description": "是否结清 / 已通过"},
        "reason": {
            "type": ["string", "null"],
            "maxLength": 255,
            "description": "未结清的原因，学生可见",
            "example": "欠费 1200.00 元",
        },
        "amount": {
            "type": ["string", "number", "null"],
            "description": '金额，如 "1200.00"（数字或数字字符串，绝对值小于 100 亿）',
            "example": "1200.00",
        },
    },
}
_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "mode": {
                            "type": "string",
                            "enum": ["upsert", "replace"],
                            "default": "upsert",
                            "description": "upsert 新增或更新所发送的行；replace 另删除未发送学生的行",
                        },
                        "rows": {
                            "type": "array",
                            "maxItems": source_rows.MAX_ROWS,
                            "items": _ROW_SCHEMA,
                        },
                    },
                }
            }
        },
    },
    # Headers of answers whose bodies are declared below (ints: ninja's own keys, merged into).
    "responses": {
        401: {
            "headers": {
                "WWW-Authenticate": {
                    "description": "Bearer（RFC 6750）",
                    "schema": {"type": "string"},
                }
            }
        },
        429: {
            "headers": {
                "Retry-After": {
                    "description": "几秒后本分钟结束，可再推送 · Seconds until the next minute",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 60},
                }
            }
        },
    },
}


class PushResult(Schema):
    received: int = Field(description="收到的行数")
    inserted: int
    updated: int
    unchanged: int
    deleted: int = Field(description="replace 模式删除的行数")
    unmatched: int = Field(description="学号不在任何名单中的行（保留，名单导入后生效）")
    sync: Literal["queued", "not_needed"] = Field(
        description="queued：已安排为数据有变化的学生同步；not_needed：无变化"
    )


class RowError(Schema):
    row: int = Field(description="第几行，从 1 开始（与 reason 中的“第 N 行”一致）")
    index: int = Field(description="在 rows 数组中的位置，从 0 开始")
    reason: str


class InvalidPush(ApiError):
    """422: the body is not a push, or rows are malformed; nothing was written."""

    errors: list[RowError | FieldError] = Field(
        description="每个错误行（row、index、reason），或请求体本身的问题（loc、msg、type）"
    )
    error_count: int | None = Field(None, description="错误行总数（errors 最多列出 1,000 行）")


class SourceToken(HttpBearer):
    """The token must be the current one of the source named in the URL (another source's is refused)."""

    openapi_description = (
        "集成表的推送令牌：Authorization: Bearer <令牌>（管理员在集成表页面生成，只显示一次）。"
        "The source's push token, generated on its page and shown once."
    )

    def __call__(self, request):
        source = super().__call__(request)
        if source is None:
            raise Problem(
                401,
                "not_authenticated",
                _("推送令牌无效：请在 Authorization 请求头中发送该集成表当前的令牌（Bearer）"),
                headers={"WWW-Authenticate": 'Bearer realm="lixiao"'},
            )
        return source

    def authenticate(self, request, token):
        match = getattr(request, "resolver_match", None)
        code = match.kwargs.get("code", "") if match else ""
        return tokens.authenticate(code, token)


def _over_rate(source) -> bool:
    """Count this push in the source's current minute (a database row, shared by every node)."""
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    sqlbulk.upsert_add(
        PushWindow._meta.db_table,
        ("source_id", "minute"),
        ("hits",),
        {(source.pk, sqlbulk.adapt(minute)): (1,)},
    )
    PushWindow.objects.filter(source=source, minute__lt=minute - timedelta(hours=1)).delete()
    hits = (
        PushWindow.objects.filter(source=source, minute=minute)
        .values_list("hits", flat=True)
        .first()
        or 0
    )
    return hits > settings.LIXIAO_PUSH_PER_MINUTE


@router.post(
    "/{code}/rows",
    auth=SourceToken(),
    openapi_extra=_OPENAPI,
    response={200: PushResult, 413: ApiError, 422: InvalidPush, 429: ApiError},
    summary="Push rows of an integration source (推送集成表数据)",
    description=(
        "Up to 10,000 rows per request. `upsert` adds or changes the rows sent; `replace` also deletes "
        "the source's rows not sent. Idempotent. Any malformed row: 422 listing each bad row as `row` "
        "(counted from 1, as the reasons say 第 N 行), `index` (its 0-based position in `rows`) and "
        "`reason`, and nothing is written. A 学号 that matches no student is kept and counted as "
        "`unmatched`. The affected students are re-synced in the background. 429 (`Retry-After`): "
        "more pushes this minute than LIXIAO_PUSH_PER_MINUTE; every push counts, refused ones too."
    ),
)
def push_rows(request, code: str):
    source = request.auth
    if _over_rate(source):
        raise Problem(
            429,
            "rate_limited",
            _("推送过于频繁：每分钟最多 %(limit)s 次，请稍后重试")
            % {"limit": settings.LIXIAO_PUSH_PER_MINUTE},
            headers={"Retry-After": str(60 - timezone.now().second)},
        )
    payload = json_body(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise _not_a_push(
            ["body", "rows"], _('请求体须为 {"mode": "upsert"|"replace", "rows": [...]}')
        )
    mode = payload.get("mode", "upsert")
    if mode not in ("upsert", "replace"):
        raise _not_a_push(["body", "mode"], _("mode 只能是 upsert 或 replace"))
    if len(payload["rows"]) > source_rows.MAX_ROWS:
        raise Problem(
            413,
            "too_many_rows",
            _("一次最多推送 %(max)s 行，本次 %(count)s 行：请分批推送")
            % {"max": source_rows.MAX_ROWS, "count": len(payload["rows"])},
        )
    rows, errors = source_rows.check_rows(payload["rows"])
    if errors:
        raise Problem(
            422,
            "invalid_rows",
            _("%(count)s 行数据有误，本次未写入任何数据") % {"count": len(errors)},
            errors=errors[:1000],
            error_count=len(errors),
        )
    stored = source_rows.store(source, rows, mode=mode)
    enqueue_sync(source, SyncRun.Trigger.PUSH, student_numbers=stored.changed_numbers)
    return {
        "received": len(rows),
        **stored.as_dict(),
        "sync": "queued" if stored.changed_numbers else "not_needed",
    }


def _not_a_push(loc: list, detail: str) -> Problem:
    return Problem(
        422, "invalid", detail, errors=[{"loc": loc, "msg": detail, "type": "push_shape"}]
    )
