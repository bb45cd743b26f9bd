"""Delegation (再授权): a college lead grants its own college's steps to its counselors, at once."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance import scope, services
from lixiao.clearance.models import Grant, OwnerType, Scope
from lixiao.console.forms.grants import DelegationForm
from lixiao.console.views.grants import describe


def _leads(user):
    """The person's lead grants in force: college scope on a college step, in a batch."""
    return (
        scope.active_grants(user)
        .filter(is_lead=True, scope=Scope.COLLEGE, step__owner_type=OwnerType.COLLEGE)
        .select_related("batch", "step", "college")
        .order_by("batch_id", "step__order")
    )


def _actor(request):
    return services.Actor(user=request.user, source="desk", client_ip=client_ip(request))


@role_required("counselor")
def delegate(request):
    leads = _leads(request.user)
    if not leads.exists():
        raise PermissionDenied(_("只有院系负责人可以向本院系人员授权。"))
    form = DelegationForm(request.POST or None, leads=leads)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            grant = form.save(created_by=request.user)
            services.log(
                _actor(request),
                "desk.grant.delegated",
                batch=grant.batch,
                data={**describe(grant), "lead_grant": form.cleaned_data["lead"].id},
            )
        messages.success(
            request,
            _("已授权 %(user)s 办理“%(step)s”，立即生效。")
            % {"user": grant.user, "step": grant.step.title},
        )
        return redirect("desk:delegate")
    delegated = (
        Grant.objects.filter(created_by=request.user, batch__in=leads.values("batch_id"))
        .exclude(user=request.user)
        .select_related("batch", "step", "user", "college")
        .order_by("batch_id", "step__order", "user__username")
    )
    return render(
        request, "desk/delegate.html", {"form": form, "leads": leads, "delegated": delegated}
    )


@role_required("counselor")
def delegate_revoke(request, pk: int):
    # Only grants this lead made, for steps it still leads: nothing else is found (404).
    leads = _leads(request.user)
    grant = get_object_or_404(
        Grant.objects.select_related("batch", "step", "user"),
        pk=pk,
        created_by=request.user,
        batch__in=leads.values("batch_id"),
        step__in=leads.values("step_id"),
    )
    if request.method == "POST":
        with transaction.atomic():
            services.log(
                _actor(request), "desk.grant.revoked", batch=grant.batch, data=describe(grant)
            )
            grant.delete()
        messages.success(
            request,
            _("已取消 %(user)s 对“%(step)s”的授权。")
            % {"user": grant.user, "step": grant.step.title},
        )
    return redirect("desk:delegate")
