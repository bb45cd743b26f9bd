"""Change requests (环节变更申请): the office approves or rejects a department's add/remove request."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lixiao.clearance import services
from lixiao.clearance.models import ChangeRequest
from lixiao.console.access import actor, office_view
from lixiao.console.forms.change_requests import DecisionForm


@office_view
def change_request_list(request):
    requests_ = ChangeRequest.objects.select_related(
        "category", "requested_by", "department", "step"
    ).order_by("status", "-requested_at")
    pending = [r for r in requests_ if r.status == ChangeRequest.Status.PENDING]
    others = [r for r in requests_ if r.status != ChangeRequest.Status.PENDING]
    return render(
        request, "console/change_requests/list.html", {"pending": pending, "others": others}
    )


@office_view
def change_request_detail(request, pk: int):
    change = get_object_or_404(
        ChangeRequest.objects.select_related("category", "requested_by", "step"), pk=pk
    )
    form = DecisionForm(request.POST or None)
    blocker = (
        services.change_request_blocker(change)
        if change.kind == ChangeRequest.Kind.REMOVE
        else None
    )
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.decide_change_request(
                actor(request), change, approve, form.cleaned_data["note"]
            )
        except services.Refused as refusal:
            messages.error(request, str(refusal))
            return redirect("console:change_request", change.pk)
        if approve and change.kind == ChangeRequest.Kind.ADD:
            messages.success(
                request,
                _("已同意。新增环节“%(title)s”为待完善草稿，请补充设置后加入类别。")
                % {"title": change.title},
            )
            return redirect(
                reverse("console:step_create", args=[change.category_id])
                + f"?change_request={change.pk}"
            )
        messages.success(
            request, _("已同意，环节已删除。") if approve else _("已驳回，申请人会收到通知。")
        )
        return redirect("console:change_requests")
    return render(
        request,
        "console/change_requests/detail.html",
        {"change": change, "form": form, "blocker": blocker},
    )
