"""Delegation (再授权): a college lead grants its own college's steps to its counselors, at once."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.roles import role_required
from lixiao.clearance import scope, services
from lixiao.clearance.models import Source
from lixiao.desk.access import actor
from lixiao.desk.forms import DelegationForm


@role_required("counselor")
def delegate(request):
    leads = scope.lead_grants(request.user)
    if not leads:
        raise PermissionDenied(_("只有院系负责人可以向本院系人员授权。"))
    form = DelegationForm(request.POST or None, leads=leads)
    if request.method == "POST" and form.is_valid():
        grant = form.save(actor(request, Source.DESK))
        if grant is not None:
            messages.success(
                request,
                _("已授权 %(user)s 办理“%(step)s”，立即生效。")
                % {"user": grant.user, "step": grant.step.title},
            )
            return redirect("desk:delegate")
    delegated = services.delegated_by(request.user)
    return render(
        request, "desk/delegate.html", {"form": form, "leads": leads, "delegated": delegated}
    )


@require_POST
@role_required("counselor")
def delegate_revoke(request, pk: int):
    # Only grants this lead made, for steps it still leads: nothing else is found (404).
    try:
        grant = services.revoke_delegation(actor(request, Source.DESK), pk)
    except services.NotFound:
        raise Http404 from None
    messages.success(
        request,
        _("已取消 %(user)s 对“%(step)s”的授权。") % {"user": grant.user, "step": grant.step.title},
    )
    return redirect("desk:delegate")
