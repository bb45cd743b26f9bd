"""What every desk view starts from: the person's batch and steps (from the one gate), the actor, htmx."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import grants, role_required
from lixiao.clearance import scope, services
from lixiao.clearance.models import Batch, Step

desk_required = role_required("department", "counselor", "office")
NO_GRANT = gettext_lazy(
    "您在该批次没有办理授权。请联系学生离校工作主管部门或本院系负责人为您授权。"
)


def batch_for(user, batch_id: int) -> Batch:
    """A batch the person handles in; 403 otherwise (the desk itself is their surface)."""
    batch = scope.handler_batches(user).select_related("category").filter(pk=batch_id).first()
    if batch is None:
        raise PermissionDenied(NO_GRANT)
    return batch


def desk_for(request, batch_id: int) -> scope.Desk:
    """The batch, my steps and my reading scope, from the grants this request already read;
    403 when the batch is not mine."""
    desk = scope.handler_desk(request.user, batch_id, grants(request))
    if desk is None:
        raise PermissionDenied(NO_GRANT)
    return desk


def my_steps(user, batch: Batch) -> list[Step]:
    """The person's steps in order, with their department and source."""
    steps = scope.handler_steps(user, batch).select_related("department", "source")
    return list(steps.order_by("order", "id"))


def my_step(steps: list[Step], step_id) -> Step:
    """One of the person's steps by id; another step is not theirs to know about (404)."""
    for step in steps:
        if str(step.id) == str(step_id):
            return step
    raise Http404


def actor(request, source: str) -> services.Actor:
    return services.Actor(user=request.user, source=source, client_ip=client_ip(request))


def is_partial(request) -> bool:
    return request.headers.get("HX-Request") == "true"
