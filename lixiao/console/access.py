"""The console's gate: the office reads and changes; an audit administrator only reads."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import available, role_required
from lixiao.clearance import services

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def office_view(view):
    """GET for the office and the audit administrator; anything that changes needs the office."""

    @role_required("office", "auditor")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS and "office" not in available(request):
            raise PermissionDenied(_("审计管理员只能查看，不能修改配置。"))
        return view(request, *args, **kwargs)

    return wrapped


def actor(request, source: str = "admin") -> services.Actor:
    return services.Actor(user=request.user, source=source, client_ip=client_ip(request))


def audit(
    request, action: str, *, batch=None, note: str = "", data: dict | None = None, source="admin"
):
    return services.log(actor(request, source), action, batch=batch, note=note, data=data)


def is_partial(request) -> bool:
    return bool(request.headers.get("HX-Request"))


def can_change(request) -> bool:
    """For templates: hide change buttons from an audit administrator."""
    return "office" in available(request)
