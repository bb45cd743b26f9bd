"""The departure certificate (离校证明) with its QR code, and the public verification page."""

import segno
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from lixiao.accounts.roles import role_required
from lixiao.clearance import queries
from lixiao.clearance.models import Form
from lixiao.portal import pages, tokens


@role_required("student")
def certificate(request, batch_id: int):
    form = (
        queries.with_records(
            queries.student_forms(request.user).select_related("student", "student__college")
        )
        .filter(batch_id=batch_id)
        .first()
    )
    if form is None:
        raise Http404
    context = {"form": form, "student": form.student}
    if form.completed_at is None:
        return render(request, "portal/certificate_pending.html", context, status=409)
    url = request.build_absolute_uri(reverse("verify:verify", args=[tokens.make(form.id)]))
    qr = segno.make(url, error="m")
    # segno writes the SVG itself from the URL: no user text reaches it unescaped.
    context.update(
        verify_url=url,
        qr_svg=mark_safe(qr.svg_inline(scale=3, title=_("离校证明核验二维码"))),  # noqa: S308
        printed_at=timezone.now(),
    )
    return render(request, "portal/certificate.html", context)


@never_cache
def verify(request, token: str):
    """No login: the masked name, 学号, batch and whether the form is complete right now."""
    form_id = tokens.read(token)
    form = (
        Form.objects.select_related("student", "batch")
        .filter(pk=form_id, batch__enabled=True)
        .first()
        if form_id is not None
        else None
    )
    if form is None:
        return render(request, "portal/verify_invalid.html", status=404)
    return render(
        request,
        "portal/verify.html",
        {
            "masked_name": pages.mask_name(form.student.name),
            "student_number": form.student.student_number,
            "batch": form.batch,
            "complete": form.completed_at is not None,
            "completed_at": form.completed_at,
            "checked_at": timezone.now(),
        },
    )
