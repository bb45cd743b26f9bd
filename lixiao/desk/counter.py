"""Counter mode: a scanned 离校码 opens that student's form within the handler's scope, and checks in today's booking."""

import re
from functools import cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lixiao.appointments import services as appointments
from lixiao.clearance import departure_code
from lixiao.clearance.models import Form, Record, Source, State
from lixiao.desk.access import actor, desk_required, reach_for

# A code is base64url text with "." for ":" (departure_code.make).
_TOKEN = "TOKEN"


@cache
def _code_in_text() -> re.Pattern:
    """The scan URL's path (from the URLconf) with the code as its group."""
    path = re.escape(reverse("desk:code", args=[_TOKEN]))
    return re.compile(path.replace(_TOKEN, "([0-9A-Za-z_.-]+)").rstrip("/") + "/?")


def token_in(text: str) -> str | None:
    """The code inside a scanned text (a desk scanner types the QR's whole URL), if any."""
    match = _code_in_text().search(text or "")
    return match.group(1) if match else None


def _refused(request, message: str, status: int):
    return render(request, "desk/counter_refused.html", {"message": message}, status=status)


@desk_required
def scan(request, token: str):
    try:
        form_id = departure_code.read(token)
    except departure_code.Expired:
        return _refused(
            request,
            _("该离校码已过期（有效 %(minutes)s 分钟）。请学生刷新离校码页面后重新出示。")
            % {"minutes": departure_code.minutes()},
            410,
        )
    batch_id = (
        Form.objects.filter(pk=form_id).values_list("batch_id", flat=True).first()
        if form_id is not None
        else None
    )
    if batch_id is None:
        return _refused(request, _("无法识别的离校码。请学生在“我的离校单”中重新打开离校码。"), 404)
    # Outside the person's scope: the same answer whether the form exists or not.
    outside = _("该学生不在您的办理范围内。请学生到负责其院系或环节的窗口办理。")
    try:
        reach = reach_for(request, batch_id)
    except PermissionDenied:
        return _refused(request, outside, 404)
    if not reach.forms().filter(pk=form_id).exists():
        return _refused(request, outside, 404)
    # A booking for today on a step I handle here: the scan is the student's check-in.
    for booking in appointments.arrive_by_code(actor(request, Source.DESK), reach, form_id):
        start = timezone.localtime(booking.slot.starts_at)
        messages.success(
            request,
            _("已签到：“%(step)s”预约 %(start)s–%(end)s")
            % {
                "step": booking.plan.step.title,
                "start": f"{start:%H:%M}",
                "end": f"{timezone.localtime(booking.slot.ends_at):%H:%M}",
            },
        )
    # Straight to the first of my steps still pending there: one tap to pass it.
    pending = (
        Record.objects.filter(form_id=form_id, step__in=reach.steps, state=State.PENDING)
        .order_by("step__order", "step_id")
        .values_list("id", flat=True)
        .first()
    )
    anchor = f"#record-{pending}" if pending else ""
    return redirect(reverse("desk:form", args=[batch_id, form_id]) + anchor)
