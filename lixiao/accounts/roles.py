"""Roles a person acts in, the one chosen for this session, and the gate for each surface."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from lixiao.clearance import scope
from lixiao.clearance.queries import roles_of

LABELS = {
    "student": _("毕业生"),
    "department": _("学校离校办理人员"),
    "counselor": _("院系辅导员"),
    "office": _("管理员"),
    "auditor": _("审计管理员"),
}
HOMES = {
    "student": "portal:home",
    "department": "desk:home",
    "counselor": "desk:home",
    "office": "console:home",
    "auditor": "console:home",
}
SESSION_KEY = "lixiao_role"


def grants(request) -> list:
    """The person's batch grants, read once per request (roles and the desk both need them)."""
    if not hasattr(request, "_lixiao_grants"):
        request._lixiao_grants = scope.person_grants(request.user)
    return request._lixiao_grants


def available(request) -> list[str]:
    if not hasattr(request, "_lixiao_roles"):
        request._lixiao_roles = roles_of(request.user, grants(request))
    return request._lixiao_roles


def current(request) -> str | None:
    roles = available(request)
    chosen = request.session.get(SESSION_KEY)
    if chosen in roles:
        return chosen
    return roles[0] if len(roles) == 1 else None


def role_required(*allowed: str):
    """Deny by default: the person must hold one of these roles (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not set(available(request)) & set(allowed):
                raise PermissionDenied("您没有访问此页面的权限。")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
