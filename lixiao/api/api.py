"""The REST API (django-ninja); OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Lixiao 离校 API",
    version="1",
    description="离校系统接口：现场办理、集成表推送。Departure clearance: desk operations and integration pushes.",
    urls_namespace="api",
)


@api.get("/health", auth=None, summary="Liveness check", tags=["system"])
def health(request):
    return {"status": "ok"}


api.add_router("/sources/", "lixiao.api.sources.router")
api.add_router("/desk/", "lixiao.api.desk.router")
