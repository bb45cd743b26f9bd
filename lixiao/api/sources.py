"""Push API for integration sources: POST /api/v1/sources/{code}/rows with the source's Bearer token."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.security import HttpBearer

from lixiao import sqlbulk
from lixiao.integrations.models import PushWindow, SyncRun
from lixiao.integrations.services import rows as source_rows
from lixiao.integrations.services import tokens
from lixiao.integrations.tasks import enqueue_sync

router = Router(tags=["sources"])

_BODY_SCHEMA = {
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
                        },
                        "rows": {
                            "type": "array",
                            "maxItems": source_rows.MAX_ROWS,
                            "items": {
                                "type": "object",
                                "required": ["student_number", "cleared"],
                                "properties": {
                                    "student_number": {"type": "string", "example": "2022000001"},
                                    "cleared": {"type": "boolean"},
                                    "reason": {
                                        "type": "string",
                                        "maxLength": 255,
                                        "example": "欠费 1200.00 元",
                                    },
                                    "amount": {
                                        "type": "string",
                                        "example": "1200.00",
                                        "nullable": True,
                                    },
                                },
                            },
                        },
                    },
                }
            }
        },
    }
}


class SourceToken(HttpBearer):
    """The token must be the current one of the source named in the URL (another source's is refused)."""

    def authenticate(self, request, token):
        match = getattr(request, "resolver_match", None)
        code = match.kwargs.get("code", "") if match else ""
        return tokens.authenticate(code, token)


def _refuse(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, **extra}, status=status, json_dumps_params={"ensure_ascii": False}
    )


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
    openapi_extra=_BODY_SCHEMA,
    summary="Push rows of an integration source (推送集成表数据)",
    description=(
        "Up to 10,000 rows per request. `upsert` adds or changes the rows sent; `replace` also deletes "
        "the source's rows not sent. Idempotent. Any malformed row: 422 listing each bad row as `row` "
        "(counted from 1, as the reasons say 第 N 行), `index` (its 0-based position in `rows`) and "
        "`reason`, and nothing is written. A 学号 that matches no student is kept and counted as "
        "`unmatched`. The affected students are re-synced in the background."
    ),
)
def push_rows(request, code: str):
    source = request.auth
    if _over_rate(source):
        return _refuse(
            429,
            _("推送过于频繁：每分钟最多 %(limit)s 次，请稍后重试")
            % {"limit": settings.LIXIAO_PUSH_PER_MINUTE},
        )
    try:
        payload = json.loads(request.body or b"null")
    except RequestDataTooBig:
        return _refuse(413, _("请求体过大：请分多次推送，每次不超过 10,000 行"))
    except (ValueError, UnicodeDecodeError):
        return _refuse(422, _("请求体不是合法的 JSON"), errors=[])
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        return _refuse(422, _('请求体须为 {"mode": "upsert"|"replace", "rows": [...]}'), errors=[])
    mode = payload.get("mode", "upsert")
    if mode not in ("upsert", "replace"):
        return _refuse(422, _("mode 只能是 upsert 或 replace"), errors=[])
    if len(payload["rows"]) > source_rows.MAX_ROWS:
        return _refuse(
            413,
            _("一次最多推送 %(max)s 行，本次 %(count)s 行：请分批推送")
            % {"max": source_rows.MAX_ROWS, "count": len(payload["rows"])},
        )
    rows, errors = source_rows.check_rows(payload["rows"])
    if errors:
        return _refuse(
            422,
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
