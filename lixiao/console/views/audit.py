"""Audit viewer (审计日志): filter, page, export, and undo of one bulk action or import group."""

import uuid
from datetime import datetime, time

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.clearance import services
from lixiao.clearance.models import Event, Source, State
from lixiao.console.access import actor, can_change, office_view
from lixiao.console.forms.audit import AuditFilterForm
from lixiao.console.views.roster import xlsx_response
from lixiao.tabular.writer import export

PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
STATES = dict(State.choices)
SOURCES = dict(Source.choices)
UNDOABLE = ("clearance.bulk.applied", *services.UNDOABLE_ACTIONS)


def filtered(form: AuditFilterForm) -> QuerySet[Event]:
    qs = Event.objects.all()
    if not form.is_valid():
        return qs.none()
    f = form.cleaned_data
    if f["student"]:
        qs = qs.filter(form__student__student_number=f["student"].strip())
    if f["step"]:
        qs = qs.filter(step=f["step"])
    if f["handler"]:
        qs = qs.filter(actor__username=f["handler"].strip())
    if f["source"]:
        qs = qs.filter(source=f["source"])
    if f["action"]:
        action = f["action"]
        qs = (
            qs.filter(action__startswith=action)
            if action.endswith(".")
            else qs.filter(action=action)
        )
    tz = timezone.get_current_timezone()
    if f["since"]:
        qs = qs.filter(at__gte=datetime.combine(f["since"], time.min, tzinfo=tz))
    if f["until"]:
        qs = qs.filter(at__lte=datetime.combine(f["until"], time.max, tzinfo=tz))
    return qs.select_related("actor", "form__student", "step", "batch").order_by("-at", "-id")


@office_view
def audit(request):
    form = AuditFilterForm(request.GET)
    page = Paginator(filtered(form), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/audit/list.html",
        {
            "form": form,
            "page": page,
            "states": STATES,
            "sources": SOURCES,
            "query": query.urlencode(),
            "undoable": UNDOABLE,
            "can_undo": can_change(request),
        },
    )


@office_view
def audit_export(request):
    form = AuditFilterForm(request.GET)
    qs = filtered(form)[:EXPORT_LIMIT]
    headers = [
        "时间",
        "操作人",
        "动作",
        "批次",
        "学号",
        "姓名",
        "环节",
        "原状态",
        "新状态",
        "来源",
        "备注",
        "客户端地址",
        "操作组",
    ]

    def rows():
        for e in qs.iterator(chunk_size=2000):
            student = e.form.student if e.form_id else None
            yield [
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                str(e.actor) if e.actor_id else "系统",
                e.action,
                e.batch.name if e.batch_id else "",
                student.student_number if student else "",
                student.name if student else "",
                e.step.title if e.step_id else "",
                STATES.get(e.from_state, e.from_state),
                STATES.get(e.to_state, e.to_state),
                SOURCES.get(e.source, e.source),
                e.note,
                e.client_ip or "",
                str(e.group) if e.group else "",
            ]

    # The file's contents stay in the default language (the state and source labels included).
    with translation.override(settings.LANGUAGE_CODE):
        data = export(headers, rows(), sheet="审计日志")
    # Exports of personal data are themselves audited (who took what, with which filter).
    services.log(
        actor(request),
        "audit.exported",
        note="导出审计日志",
        data={k: v for k, v in request.GET.items() if k != "page"},
    )
    return xlsx_response(data, f"审计日志-{timezone.localdate():%Y%m%d}.xlsx")


@office_view
@require_POST
def audit_undo(request):
    back = request.POST.get("next", "")
    # Back to the same filtered list: only a query string is accepted, never another address.
    target = redirect(reverse("console:audit") + (f"?{back}" if back and "/" not in back else ""))
    try:
        group = uuid.UUID(request.POST.get("group", ""))
    except ValueError:
        messages.error(request, _("操作组编号无效。"))
        return target
    try:
        outcome = services.undo_group(actor(request, Source.ADMIN), group)
    except services.UndoRefused as refusal:
        if len(refusal.students) > 50:
            message = _("不能撤销：%(reason)s：%(students)s 等 %(n)s 人") % {
                "reason": refusal,
                "students": services.join_names(refusal.students[:50]),
                "n": len(refusal.students),
            }
        elif refusal.students:
            message = _("不能撤销：%(reason)s：%(students)s") % {
                "reason": refusal,
                "students": services.join_names(refusal.students),
            }
        else:
            message = _("不能撤销：%(reason)s") % {"reason": refusal}
        messages.error(request, message)
        return target
    messages.success(
        request,
        _("已撤销操作组，%(n)s 名学生的环节状态已恢复（新操作组 %(group)s）。")
        % {"n": len(outcome.changed), "group": outcome.group},
    )
    return redirect(reverse("console:audit") + "?action=clearance.group.undone")
