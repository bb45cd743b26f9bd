"""The OpenAPI schema says every answer an operation can really give, so a client needs no guessing.

ninja writes what each operation declares (its success and its own refusals such as 409). This adds
the refusals that come from the API layer itself, from what each operation is: 422 for every one
(parameters, and any query value with NUL — see guard.screen), 404 when its path names something,
413 and 415 for every method that carries a body, 401 and its auth's own refusals (403 for the desk)
when it needs credentials, and the CSRF pair that the session's unsafe methods need.
"""

from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.schema import NinjaGenerateJsonSchema

from lixiao.api.errors import ApiError, InvalidInput
from lixiao.api.guard import UNSAFE

ERROR_DESCRIPTION = """

## 错误 · Errors

每个失败的请求都返回 JSON：`{"detail": "原因及如何改正", "code": "稳定的错误代码", …}`，`detail` 随请求语言
（`Accept-Language`）为中文或英文。422 另有 `errors`：每一处问题的 `loc`（位置）、`msg`、`type`。
Every failure answers JSON `{"detail": "what to fix", "code": "stable code", …}`; 422 adds `errors`
(each problem's `loc`, `msg`, `type`). Codes: 401 `not_authenticated`; 403 `forbidden`, `csrf_failed`;
404 `not_found`; 405 `method_not_allowed`; 409 `refused` (with `refusal`); 413 `too_large`,
`too_many_rows`; 415 `unsupported_media_type`; 422 `invalid`, `invalid_json`, `invalid_rows`;
429 `rate_limited` (with `Retry-After`). Bodies are `application/json` in UTF-8, at most 10 MB.
A refused request writes nothing."""

# The cookie the CSRF check compares the header with (Django's defaults, as settings leave them).
CSRF_SCHEMES = {
    "CsrfCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "csrftoken",
        "description": "登录后页面设置的 csrftoken Cookie（与会话 Cookie 一同保存即可）。"
        "The csrftoken cookie set by the site along with the session.",
    },
    "CsrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "修改类请求（POST 等）须带此请求头，值为 csrftoken Cookie 的值。"
        "Unsafe methods send this header, its value the csrftoken cookie's.",
    },
}

_AUTH = "请求缺少有效的凭据 · Missing or invalid credentials"


def _standard(description: str, model=ApiError) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}
        },
    }


class LixiaoSchema(OpenAPISchema):
    def __init__(self, api, path_prefix: str) -> None:
        super().__init__(api, path_prefix)
        self["info"]["description"] = (self["info"].get("description") or "") + ERROR_DESCRIPTION

    def operation_details(self, operation) -> dict:
        result = super().operation_details(operation)
        responses = result["responses"]
        declared = {str(status) for status in responses}

        def add(status: int, description: str, model=ApiError) -> None:
            # An operation's own declaration wins; one that only adds headers keeps them.
            existing = responses.get(status) or {}
            if str(status) not in declared or "content" not in existing:
                responses[status] = {**_standard(description, model), **existing}

        methods = set(operation.methods)
        unsafe = bool(methods & UNSAFE)
        add(422, "请求参数或请求体不符合要求，errors 逐项列出 · Invalid input", InvalidInput)
        if any(p["in"] == "path" for p in result.get("parameters", [])):
            add(404, "地址所指对象不存在或不在范围内 · Not found")
        if unsafe:
            add(413, "请求体过大 · Body too large")
            add(415, "请求体须为 application/json（UTF-8） · Body must be JSON")
        for auth in operation.auth_callbacks:
            add(401, _AUTH)
            for status, description in getattr(auth, "refusals", {}).items():
                add(status, description)
            if unsafe and getattr(auth, "csrf", False):
                # Django's CSRF check: the cookie and the header, both, beside the session.
                result["security"] = [
                    {**req, **dict.fromkeys(CSRF_SCHEMES, [])} for req in result.get("security", [])
                ]
                self.securitySchemes.update(CSRF_SCHEMES)
        return result

    def get_components(self) -> dict:
        components = super().get_components()
        for model in (ApiError, InvalidInput):
            schema = model.model_json_schema(
                ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
            )
            components["schemas"].update(schema.pop("$defs", {}))
            components["schemas"][model.__name__] = schema
        return components
