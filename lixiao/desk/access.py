"""What every desk view starts from: the person's reach in a batch (the one gate), the actor, htmx."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants, role_required
from lixiao.clearance import scope, services
from lixiao.clearance.models import Step

desk_required = role_required("department", "counselor", "office")
NO_GRANT = gettext_lazy(
    "您在该批次没有办理授权。请联系学生离校工作主管部门或本院系负责人为您授权。"
)


def reach_for(request, batch_id: int) -> scope.Reach:
    """The batch, my steps and my reading scope, from the grants this request already read;
    403 when the batch is not mine (the desk itself is their surface)."""
    reach = scope.reach(request.user, batch_id, grants(request))
    if reach is None:
        raise PermissionDenied(NO_GRANT)
    return reach


def my_step(reach: scope.Reach, step_id) -> Step:
    """One of the person's steps by id; another step is not theirs to know about (404)."""
    step = reach.step(step_id)
    if step is None:
        raise Http404
    return step


def actor(request, source: str) -> services.Actor:
    return services.Actor(user=request.user, source=source, client_ip=client_ip(request))


def is_partial(request) -> bool:
    return request.headers.get("HX-Request") == "true"
