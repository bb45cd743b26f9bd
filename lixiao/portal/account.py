"""The student's account page (我的账号与数据): profile, recent logins, and the download of
everything held about them (own_data), each download audited."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.clearance import services
from lixiao.directory.models import Student
from lixiao.portal import own_data

FORMATS = {
    "json": ("application/json; charset=utf-8", own_data.as_json),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        own_data.as_xlsx,
    ),
}


@never_cache
@role_required("student")
def account(request):
    student = Student.objects.select_related("college").get(user=request.user)
    return render(
        request,
        "portal/account.html",
        {"student": student, "logins": list(own_data.login_events(request.user, 10))},
    )


@never_cache
@require_POST
@role_required("student")
def download(request, fmt: str):
    """POST (a CSRF-checked form): a link that a page elsewhere could make the browser follow
    must not be able to start a download that lands in the audit as the student's."""
    if fmt not in FORMATS:
        raise Http404
    content_type, render_file = FORMATS[fmt]
    data = own_data.collect(request.user)
    body = render_file(data)
    actor = services.Actor(user=request.user, source="portal", client_ip=client_ip(request))
    services.log(
        actor, "portal.own_data.downloaded", note=f"下载个人数据（{fmt}）", data={"format": fmt}
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{own_data.filename(data, fmt)}"'
    return response
