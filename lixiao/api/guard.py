"""What the API checks of every request before an operation reads it: address, size, media type, JSON.

`screen` runs on every URL of the API and `screen_body` on every operation, before authentication:
cheap checks of the request line and headers, nothing read or parsed yet. `json_body` parses a
body once authentication passed. All raise `errors.Problem`, so a malformed request gets a 4xx in
the error shape and reaches no service: nothing is written.
"""

import functools
import json
import math
import re

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.utils.translation import gettext as _
from ninja.parser import Parser

from lixiao.api import errors

JSON = "application/json"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# PostgreSQL text refuses NUL; a lone surrogate cannot be encoded as UTF-8 by any database driver.
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def screen(request) -> None:
    """Refuse an address no operation can take: NUL in the path or in the query string."""
    if "\x00" in request.path:
        raise errors.Problem(404, "not_found", _("未找到：地址中含有不允许的字符"))
    try:
        query = request.GET.lists()
    except TooManyFieldsSent:  # more than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django's own 400 page
        raise errors.invalid(
            [
                errors.field_error(
                    ["query"],
                    _("参数过多：最多 %(max)s 个")
                    % {"max": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS},
                    "too_many_fields",
                )
            ]
        ) from None
    bad = [
        errors.field_error(["query", key], _("含有不允许的字符（NUL）"), "string_characters")
        for key, values in query
        if "\x00" in key or any("\x00" in value for value in values)
    ]
    if bad:
        raise errors.invalid(bad)


def screen_body(request) -> None:
    """Refuse a body no operation takes: too large, or not JSON (before anything reads it)."""
    if request.method not in UNSAFE:
        return  # a body sent with GET is never read
    if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise errors.too_large()
    # Only JSON is parsed: Django would parse multipart and form bodies by itself for the CSRF
    # check (a multipart type without a boundary failed there). An empty body may omit the type.
    if request.META.get("CONTENT_TYPE") or _content_length(request):
        charset = request.content_params.get("charset", "utf-8").lower()
        if request.content_type != JSON or charset not in ("utf-8", "utf8"):
            raise errors.unsupported_media_type()


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def screened(view):
    """A URL's view with `screen` in front, and a 405 in the error shape (ninja's is plain text)."""

    @functools.wraps(view)  # keeps csrf_exempt: ninja's session auth does its own CSRF check
    def wrapper(request, *args, **kwargs):
        try:
            screen(request)
        except errors.Problem as problem:
            return problem.response()
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(JSON):
            allowed = response.get("Allow", "")
            return errors.respond(
                405,
                "method_not_allowed",
                _("此地址不接受 %(method)s 请求，可用：%(allowed)s")
                % {"method": request.method, "allowed": allowed},
                headers={"Allow": allowed},
            )
        return response

    return wrapper


def body_screened(run):
    """An operation's run with `screen_body` in front: after the method matched (a wrong method
    is a 405, whatever its body), before authentication and the CSRF check read anything."""

    @functools.wraps(run)
    def wrapper(request, *args, **kwargs):
        try:
            screen_body(request)
        except errors.Problem as problem:
            return problem.response()
        return run(request, *args, **kwargs)

    return wrapper


def not_found(request, *args, **kwargs):
    """Any address under the API that names no operation."""
    return errors.respond(
        404, "not_found", _("未找到：没有这个接口地址，接口说明见 /api/v1/openapi.json")
    )


def _invalid_json(reason: str, loc=("body",), type_: str = "json_invalid") -> errors.Problem:
    problem = errors.invalid([errors.field_error(loc, reason, type_)], code="invalid_json")
    if tuple(loc) == ("body",):
        problem.detail = reason  # the sentence already names the body
    return problem


class _BadNumber(ValueError):
    """NaN, Infinity or 1e999: Python's json reads them, JSON and the databases have no such number."""


def _no_constant(name: str):
    raise _BadNumber(name)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text)
    return value


def json_body(request):
    """The body as JSON (None when empty), or a 422 saying what is wrong with it."""
    raw = request.body
    if not raw:
        return None
    try:
        text = raw.decode("utf-8-sig")  # a leading BOM is allowed (RFC 8259 §8.1)
    except UnicodeDecodeError:
        raise _invalid_json(_("请求体须为 UTF-8 编码的 JSON")) from None
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:  # json's own limit, about 1,000 levels: no body here nests beyond 4
        raise _invalid_json(_("JSON 嵌套过深"), type_="json_depth") from None
    except _BadNumber:
        raise _invalid_json(
            _("请求体含有 JSON 无法表示的数字（NaN、Infinity 或超出范围）")
        ) from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(
            _("请求体不是合法的 JSON：第 %(line)s 行第 %(column)s 列附近有误")
            % {"line": exc.lineno, "column": exc.colno}
        ) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise _invalid_json(_("请求体含有位数过多的数字")) from None
    # A raw NUL or surrogate cannot be in strictly decoded JSON text: only an escape makes one, so
    # the values are walked only when the text has such an escape (a 10,000-row push has none).
    if _SUSPECT_ESCAPE.search(text):
        _check_strings(data)
    return data


def _check_strings(data) -> None:
    """Every key and string a database can store: no NUL, no unpaired surrogate; with its place."""
    stack = [(data, ("body",))]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            bad = _BAD_CHARACTERS.search(value)
        elif isinstance(value, dict):
            bad = any(_BAD_CHARACTERS.search(key) for key in value)
            stack.extend((item, (*loc, key)) for key, item in value.items())
        else:
            bad = False
            if isinstance(value, list):
                stack.extend((item, (*loc, index)) for index, item in enumerate(value))
        if bad:
            raise _invalid_json(
                _("含有不允许的字符（NUL 或不成对的代理字符）"), loc, "string_characters"
            )


class JsonParser(Parser):
    """ninja's body parser, through `json_body` (ninja's own reads NaN and any encoding json guesses)."""

    def parse_body(self, request):
        return json_body(request)
