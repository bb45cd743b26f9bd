"""The student's messages on a step: 异议 or 我已办理, with an optional attachment."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lixiao.accounts.roles import role_required
from lixiao.clearance.models import Record
from lixiao.clearance.rules import Refused
from lixiao.clearance.scope import student_forms
from lixiao.objections import services
from lixiao.objections.models import Objection


def _record(request, record_id: int) -> Record:
    record = (
        Record.objects.select_related("step", "step__department", "form__batch")
        .filter(pk=record_id, form__in=student_forms(request.user))
        .first()
    )
    if record is None:
        raise Http404
    return record


@role_required("student")
def message(request, record_id: int):
    record = _record(request, record_id)
    error = ""
    if request.method == "POST":
        try:
            services.submit(
                request.user,
                record,
                request.POST.get("kind", ""),
                request.POST.get("message", ""),
                request.FILES.get("attachment"),
            )
        except services.NotFound:
            raise Http404 from None
        except Refused as refusal:
            error = str(refusal)
        else:
            messages.success(
                request,
                _("已提交到“%(step)s”的办理人员，答复会显示在该环节下")
                % {"step": record.step.title},
            )
            return redirect(reverse("portal:home") + f"#step-{record.id}")
    return render(
        request,
        "portal/message.html",
        {
            "record": record,
            "error": error,
            "kinds": Objection.Kind.choices,
            "history": Objection.objects.filter(record=record).order_by("created_at", "id"),
            "max_mb": services.MAX_BYTES // (1024 * 1024),
            "posted": request.POST,
            "kind": request.POST.get("kind")
            or ("done" if record.state == "pending" else "objection"),
        },
        status=400 if error else 200,
    )


@role_required("student")
def attachment(request, objection_id: int):
    objection = services.student_objections(request.user).filter(pk=objection_id).first()
    if objection is None or not objection.attachment:
        raise Http404
    response = FileResponse(
        objection.attachment.open("rb"),
        content_type=services.CONTENT_TYPES[objection.attachment_type],
        as_attachment=objection.attachment_type == "pdf",
        filename=_("附件-%(id)s.%(ext)s") % {"id": objection.id, "ext": objection.attachment_type},
    )
    response["Cache-Control"] = "private, no-store"
    return response
