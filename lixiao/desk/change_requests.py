"""Change requests from the desk: a handler asks the office to add or remove a step, before the deadline."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lixiao.accounts.roles import role_required
from lixiao.clearance import services
from lixiao.clearance.models import ChangeRequest, Source
from lixiao.desk.access import actor
from lixiao.desk.forms import ChangeRequestForm


@role_required("department", "counselor")
def change_requests(request):
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(actor(request, Source.DESK))
        except services.Forbidden:
            raise PermissionDenied from None
        except services.Refused as refusal:
            form.add_error(None, str(refusal))
        else:
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
        {"form": form, "mine": mine, "open_categories": list(services.open_categories())},
    )
