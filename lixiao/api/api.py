"""The REST API (django-ninja); OpenAPI at /api/v1/openapi.json.

Malformed requests are handled here once, for every operation (docs/integrations.md, 错误): each
URL and each operation's body are screened before authentication (guard.screen, guard.screen_body),
bodies are parsed by guard.json_body, every
refusal answers in the error shape (errors.install), an address that names no operation gets a
JSON 404, and the schema lists the answers the API layer adds (openapi.LixiaoSchema).
"""

from django.urls import URLPattern, re_path
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError, ValidationErrorContext

from lixiao.api import errors, guard
from lixiao.api.openapi import LixiaoSchema


class LixiaoAPI(NinjaAPI):
    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        screened = [
            URLPattern(p.pattern, guard.screened(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        return [*screened, re_path(r"", guard.not_found)], app_name, namespace

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return LixiaoSchema(self, path_prefix)

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """As ninja's, but a body's location leaves out the parameter's name: ["body", "note"],
        not ["body", "body", "note"] — a client knows the body, not our function's argument."""
        error = super().validation_error_from_error_contexts(error_contexts)
        single = {
            getattr(c.model, "__read_from_single_attr__", None)
            for c in error_contexts
            if c.model.__ninja_param_source__ == "body"
        } - {None}
        for item in error.errors:
            loc = list(item["loc"])
            if loc[:1] == ["body"] and len(loc) > 1 and loc[1] in single:
                del loc[1]
            item["loc"] = loc
        return error


api = LixiaoAPI(
    title="Lixiao 离校 API",
    version="1",
    description="离校系统接口：现场办理、预约办理、集成表推送。Departure clearance: desk operations, appointments and integration pushes.",
    urls_namespace="api",
    parser=guard.JsonParser(),
)
errors.install(api)
api.add_decorator(guard.body_screened, mode="view")  # wraps each operation's run, before auth


class Health(Schema):
    status: str


@api.get("/health", auth=None, response=Health, summary="Liveness check", tags=["system"])
def health(request):
    return {"status": "ok"}


api.add_router("/sources/", "lixiao.api.sources.router")
api.add_router("/desk/", "lixiao.api.desk.router")
api.add_router("/desk/", "lixiao.api.appointments.desk_router")
api.add_router("/me/", "lixiao.api.appointments.student_router")
