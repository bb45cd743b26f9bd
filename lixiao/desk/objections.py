"""Students' messages (异议 / 我已办理) on my steps: list with the unread count, reply, confirm, dismiss."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.accounts.network import client_ip
from lixiao.clearance.rules import Refused
from lixiao.desk.access import desk_required, reach_for
from lixiao.objections import services
from lixiao.objections.models import Objection


@desk_required
def objection_list(request, batch_id: int):
    reach = reach_for(request, batch_id)
    batch = reach.batch
    items = list(
        services.handler_objections(reach).select_related(
            "form__student", "step", "record", "handled_by"
        )
    )
    # Open ones first (oldest waiting longest at the top), then the answered, newest first.
    items.sort(key=lambda o: (not o.is_open, o.created_at.timestamp() * (1 if o.is_open else -1)))
    unread = sum(1 for o in items if o.status == Objection.Status.OPEN)
    return render(
        request, "desk/objections.html", {"batch": batch, "items": items, "unread": unread}
    )


@require_POST
@desk_required
def objection_act(request, batch_id: int, pk: int, action: str):
    batch = reach_for(request, batch_id).batch
    objection = Objection.objects.filter(pk=pk, form__batch=batch).first()
    if objection is None or action not in ("reply", "confirm", "dismiss"):
        raise Http404
    text = request.POST.get("text", "")
    try:
        if action == "reply":
            services.reply(request.user, objection, text)
            messages.success(request, _("答复已发送给学生。"))
        elif action == "confirm":
            services.confirm(request.user, objection, client_ip=client_ip(request))
            messages.success(
                request,
                _("已核实，“%(step)s”已办理通过。") % {"step": objection.step.title},
            )
        else:
            services.dismiss(request.user, objection, text)
            messages.success(request, _("已不予采纳，原因已告知学生。"))
    except services.NotFound:
        raise Http404 from None
    except Refused as refusal:
        messages.error(request, str(refusal))
    return redirect("desk:objections", batch_id=batch.id)
