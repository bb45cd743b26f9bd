"""The API's one error shape — {"detail", "code", …} — and the handlers that give it to every refusal.

Every answer that is not a success is JSON of this shape, whoever refuses: the screening of the
request (guard), authentication, parameter validation, the core's services (NotFound, Forbidden,
Refused) or an operation itself. `detail` is a sentence that says what to fix, in the request's
language; `code` is stable, for programs (docs/integrations.md lists them).
"""

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Field, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from lixiao.clearance import services
from lixiao.clearance.rules import Refused

# The stable codes, by the status that carries them (docs/integrations.md explains each).
CODES = {
    401: ("not_authenticated",),
    403: ("forbidden", "csrf_failed"),
    404: ("not_found",),
    405: ("method_not_allowed",),
    409: ("refused",),
    413: ("too_large", "too_many_rows"),
    415: ("unsupported_media_type",),
    422: ("invalid", "invalid_json", "invalid_rows"),
    429: ("rate_limited",),
}


class ApiError(Schema):
    """Every refusal: what went wrong, as a sentence and as a code."""

    detail: str = Field(description="原因及如何改正（按请求的语言：中文或英文）")
    code: str = Field(
        description="稳定的错误代码，供程序判断："
        + "、".join(c for cs in CODES.values() for c in cs)
    )


class FieldError(Schema):
    """One input that does not fit: where it is, and what is wrong with it."""

    loc: list[str | int] = Field(
        description='出错的位置：["query", "page"]、["path", "record_id"]、["body", "note"]、["body"]'
    )
    msg: str = Field(description="该处的问题（按请求的语言）")
    type: str = Field(
        description="问题类型代码，如 missing、int_parsing、string_too_long、json_invalid"
    )


class InvalidInput(ApiError):
    """422: the parameters or the body do not fit the schema; each problem listed."""

    errors: list[FieldError]


class Refusal(ApiError):
    """409: the rules refuse the change; `refusal` says which rule."""

    refusal: str = Field(
        description="被哪条规则拒绝，如 gate（最终环节须等其他必办环节通过）、window（不在服务时间内）、"
        "not_applicable（该环节对该学生无需办理）"
    )


class Problem(Exception):
    """A refusal the API answers in its error shape (raised anywhere inside an operation)."""

    def __init__(self, status: int, code: str, detail: str, *, headers=None, **extra):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, str(detail)
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> HttpResponse:
        return respond(self.status, self.code, self.detail, headers=self.headers, **self.extra)


def respond(status: int, code: str, detail: str, *, headers=None, **extra) -> HttpResponse:
    response = JsonResponse(
        {"detail": str(detail), "code": code, **extra},
        status=status,
        content_type="application/json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid(errors: Sequence[dict], code: str = "invalid") -> Problem:
    """422 listing each problem; the sentence names the first few."""
    return Problem(422, code, describe(errors), errors=list(errors))


def field_error(loc: Sequence, msg: str, type_: str) -> dict:
    return {"loc": list(loc), "msg": str(msg), "type": type_}


_PLACES = {
    "query": gettext_noop("查询参数 %(name)s"),
    "path": gettext_noop("路径参数 %(name)s"),
    "body": gettext_noop("请求体字段 %(name)s"),
    "header": gettext_noop("请求头 %(name)s"),
    "cookie": gettext_noop("Cookie %(name)s"),
}


def where(loc: Sequence) -> str:
    """A location as a person reads it: 查询参数 page, 请求体字段 rows[3].cleared, 请求体."""
    if not loc:
        return _("请求")
    source, rest = loc[0], list(loc[1:])
    if not rest:
        return {"body": _("请求体"), "query": _("查询字符串")}.get(source, str(source))
    name = str(rest[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest[1:])
    return _(_PLACES[source]) % {"name": name} if source in _PLACES else name


def describe(errors: Sequence[dict]) -> str:
    shown = [
        _("%(place)s：%(problem)s") % {"place": where(e["loc"]), "problem": e["msg"]}
        for e in errors[:3]
    ]
    text = _("请求有误：%(problems)s") % {"problems": _("；").join(shown)}
    if len(errors) > 3:
        text += _("（共 %(count)s 处）") % {"count": len(errors)}
    return text


# Pydantic's error types as sentences a person can act on; anything else keeps pydantic's words.
_MESSAGES = {
    "missing": gettext_noop("缺少此项"),
    "int_parsing": gettext_noop("须为整数"),
    "int_type": gettext_noop("须为整数"),
    "int_from_float": gettext_noop("须为整数"),
    "float_parsing": gettext_noop("须为数字"),
    "float_type": gettext_noop("须为数字"),
    "string_type": gettext_noop("须为文字"),
    "bool_parsing": gettext_noop("须为 true 或 false"),
    "bool_type": gettext_noop("须为 true 或 false"),
    "model_type": gettext_noop("须为 JSON 对象"),
    "model_attributes_type": gettext_noop("须为 JSON 对象"),
    "dict_type": gettext_noop("须为 JSON 对象"),
    "list_type": gettext_noop("须为数组"),
    "string_too_long": gettext_noop("最多 %(max_length)s 个字符"),
    "string_too_short": gettext_noop("至少 %(min_length)s 个字符"),
    "greater_than_equal": gettext_noop("须不小于 %(ge)s"),
    "less_than_equal": gettext_noop("须不大于 %(le)s"),
    "greater_than": gettext_noop("须大于 %(gt)s"),
    "less_than": gettext_noop("须小于 %(lt)s"),
    "literal_error": gettext_noop("只能是 %(expected)s"),
    "enum": gettext_noop("只能是 %(expected)s"),
    "extra_forbidden": gettext_noop("不接受此项"),
}


def pydantic_message(error: dict) -> str:
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return _(template) % (error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


def from_validation(exc: NinjaValidationError) -> Problem:
    return invalid(
        [field_error(e.get("loc", ()), pydantic_message(e), e.get("type", "")) for e in exc.errors]
    )


def _not_found() -> Problem:
    # The same sentence whether the object does not exist or lies outside the person's scope.
    return Problem(404, "not_found", _("未找到：该对象不存在，或不在您的办理范围内"))


def _http_error(exc: HttpError) -> Problem:
    if isinstance(exc.__cause__, Problem):  # ninja wraps what the body parser raised
        return exc.__cause__
    if isinstance(exc, Throttled):  # an operation declaring ninja's throttle= (none does yet)
        wait = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return Problem(429, "rate_limited", _("请求过于频繁，请稍后重试"), headers=wait)
    if isinstance(exc, AuthenticationError):
        return Problem(401, "not_authenticated", _("未登录或登录已过期：请先登录"))
    if isinstance(exc, AuthorizationError):
        return Problem(403, "forbidden", str(exc))
    if exc.status_code == 403:  # ninja's session auth: the CSRF check failed
        return Problem(
            403,
            "csrf_failed",
            _("CSRF 校验失败：修改类请求须带 X-CSRFToken 请求头，其值为 csrftoken Cookie 的值"),
        )
    return Problem(exc.status_code, CODES.get(exc.status_code, ("error",))[0], str(exc))


def too_large() -> Problem:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return Problem(
        413,
        "too_large",
        _("请求体过大：最多 %(limit)s MB，请分多次发送") % {"limit": limit},
    )


def unsupported_media_type() -> Problem:
    return Problem(
        415,
        "unsupported_media_type",
        _("请求体须为 JSON：请加上请求头 Content-Type: application/json（UTF-8 编码）"),
    )


def install(api) -> None:
    """Give every refusal the error shape (ninja's own handlers answer other shapes)."""
    handlers = {
        Problem: lambda exc: exc,
        NinjaValidationError: from_validation,
        HttpError: _http_error,
        Http404: lambda exc: _not_found(),
        services.NotFound: lambda exc: _not_found(),
        services.Forbidden: lambda exc: Problem(403, "forbidden", str(exc) or _("您没有此项权限")),
        Refused: lambda exc: Problem(409, "refused", str(exc), refusal=exc.code),
        # guard.screen_body refuses these before anything reads the body; kept for a body read
        # some other way (a Content-Length that lies, request.POST in a future operation).
        RequestDataTooBig: lambda exc: too_large(),
        MultiPartParserError: lambda exc: unsupported_media_type(),
    }
    for exc_class, to_problem in handlers.items():
        api.add_exception_handler(
            exc_class, lambda request, exc, to_problem=to_problem: to_problem(exc).response()
        )
