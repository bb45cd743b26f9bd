"""Change requests from the desk: a handler asks the office to add or remove a step, before the deadline."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance import services
from lixiao.console.forms.change_requests import ChangeRequestForm, open_categories
from lixiao.console.models import ChangeRequest


@role_required("department", "counselor")
def change_requests(request):
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            change = ChangeRequest.objects.create(
                category=data["category"],
                kind=data["kind"],
                step=data.get("step"),
                title=data["title"],
                owner_type=data.get("owner_type") or "",
                department=data.get("department"),
                instructions=data.get("instructions", ""),
                reason=data["reason"],
                requested_by=request.user,
            )
            services.log(
                services.Actor(user=request.user, source="desk", client_ip=client_ip(request)),
                "desk.change_request.submitted",
                data={
                    "change_request": change.id,
                    "kind": change.kind,
                    "title": change.title,
                    "category": change.category_id,
                },
            )
        messages.success(request, _("申请已提交，请等待学生离校工作主管部门审核。"))
        return redirect("desk:change_requests")
    mine = (
        ChangeRequest.objects.filter(requested_by=request.user)
        .select_related("category", "department")
        .order_by("-requested_at")
    )
    return render(
        request,
        "desk/change_requests.html",
        {"form": form, "mine": mine, "open_categories": list(open_categories())},
    )
