"""出示离校码: the student's short-lived QR code for the counter (see clearance.departure_code)."""

from datetime import timedelta

import segno
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from lixiao.accounts.roles import role_required
from lixiao.appointments import queries as appointments
from lixiao.clearance import departure_code, queries


@never_cache
@role_required("student")
def code(request, form_id: int):
    form = queries.student_forms(request.user).select_related("student").filter(pk=form_id).first()
    if form is None:
        raise Http404
    context = {
        "form": form,
        "student": form.student,
        "batch": form.batch,
        # Shown with the code: the counter sees the booking the scan checks in.
        "bookings": appointments.form_bookings(form.id),
        "today": timezone.localdate(),
    }
    window = form.batch.window_state()
    if window != "open" or form.completed_at:
        # Nothing to show at a counter: say why instead of a code that leads nowhere.
        context["why"] = (
            _("您的离校手续已全部办结，无需出示离校码。")
            if form.completed_at
            else _("本批次当前不在服务时间内，暂不能出示离校码。")
        )
        return render(request, "portal/counter_code.html", context, status=409)
    minutes = departure_code.minutes()
    url = request.build_absolute_uri(reverse("desk:code", args=[departure_code.make(form.id)]))
    qr = segno.make(url, error="m")
    context.update(
        # segno draws the SVG from the URL it was given: no user text reaches it unescaped.
        qr_svg=mark_safe(qr.svg_inline(scale=6, title=_("离校码"))),  # noqa: S308
        scan_url=url,
        valid_until=timezone.localtime() + timedelta(minutes=minutes),
        minutes=minutes,
        # A fresh code well before this one runs out, so the one on screen is always valid.
        refresh_seconds=max(30, minutes * 30),
    )
    return render(request, "portal/counter_code.html", context)
