"""Bulk pass/revoke of one of my steps for selected students, or for all students matching a search."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.clearance import queries, services
from lixiao.clearance.models import Source, State
from lixiao.clearance.rules import Refused
from lixiao.desk.access import actor, desk_required, my_step, reach_for
from lixiao.desk.filters import SearchForm

MAX_SHOWN = 500  # refused students listed on the summary; the count covers them all


def _selected(request, reach) -> list[int]:
    """The form ids to act on: the ticked ones, or every form matching the posted search."""
    if request.POST.get("scope") == "all":
        search = SearchForm(QueryDict(request.POST.get("query", "")), reach.steps, reach.colleges)
        return list(queries.search(reach, search.filters()).values_list("id", flat=True))
    # "form" per ticked box; "forms" a comma-separated list from a client selecting thousands
    # (one field, under Django's cap on the number of fields a request may carry).
    values = [*request.POST.getlist("form"), *request.POST.get("forms", "").split(",")]
    return [int(v) for v in values if v.strip().isdigit()]


@require_POST
@desk_required
def bulk(request, batch_id: int):
    reach = reach_for(request, batch_id)
    batch = reach.batch
    step = my_step(reach, request.POST.get("step"))
    action = request.POST.get("action")
    back = reverse("desk:batch", args=[batch.id]) + "?" + request.POST.get("query", "")
    if action not in ("pass", "revoke"):
        messages.error(request, _("请选择“通过”或“撤销”。"))
        return redirect(back)
    ids = _selected(request, reach)
    if not ids:
        messages.error(request, _("请先勾选学生，或选择“全部符合条件的学生”。"))
        return redirect(back)
    to_state = State.PASSED if action == "pass" else State.PENDING
    note = request.POST.get("note", "").strip()[:255]
    try:
        outcome = services.apply_many(
            actor(request, Source.BULK),
            batch,
            step,
            [services.Item(fid, to_state, note) for fid in ids],
        )
    except Refused as refusal:  # the service window is closed
        messages.error(request, str(refusal))
        return redirect(back)
    # Names only for forms the person may read: a guessed id outside scope stays anonymous.
    refused_ids = [fid for fid, _code, _msg in outcome.refused[:MAX_SHOWN]]
    people = {
        fid: (number, name)
        for fid, number, name in reach.forms()
        .filter(id__in=refused_ids)
        .values_list("id", "student__student_number", "student__name")
    }
    refused = [
        {
            "number": people.get(fid, ("", ""))[0],
            "name": people.get(fid, ("", ""))[1],
            "message": msg,
        }
        for fid, _code, msg in outcome.refused[:MAX_SHOWN]
    ]
    return render(
        request,
        "desk/bulk_result.html",
        {
            "batch": batch,
            "step": step,
            "action": action,
            "outcome": outcome,
            "refused": refused,
            "more_refused": max(0, len(outcome.refused) - MAX_SHOWN),
            "back": back,
            "reopened": len(set(outcome.reopened)),
        },
    )
