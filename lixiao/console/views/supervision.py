"""Follow-up and pressing (跟进及督办) for one batch: progress from tallies, export, reminders."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Batch, Form, OwnerType, Record, State, Step, StepTally
from lixiao.console.access import actor
from lixiao.console.views.roster import office_only, xlsx_response
from lixiao.directory.models import College
from lixiao.notify import services as notify
from lixiao.tabular.writer import export

LONGEST = 20


def dashboard(batch: Batch, user) -> dict:
    """Everything the page and the export show, in a fixed number of queries."""
    reach = scope.reach(user, batch.id)  # the office's: every step of the batch, in order
    steps = reach.steps
    stats = queries.step_statistics(reach)
    colleges = queries.college_statistics(batch)
    pending = defaultdict(dict)  # college id → step id → pending
    for college_id, step_id, n in StepTally.objects.filter(batch=batch).values_list(
        "college_id", "step_id", "pending"
    ):
        pending[college_id][step_id] = n
    for c in colleges:
        c["percent"] = round(100 * c["done"] / c["total"], 1) if c["total"] else 0.0
        c["pending"] = [pending[c["college_id"]].get(s.id, 0) for s in steps]
    total = sum(c["total"] for c in colleges)
    done = sum(c["done"] for c in colleges)
    daily = list(
        Form.objects.filter(batch=batch, completed_at__isnull=False)
        .annotate(day=TruncDate("completed_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    longest = (
        Form.objects.filter(batch=batch, completed_at__isnull=True)
        .select_related("student", "college")
        .order_by("created_at", "id")
        .prefetch_related(
            Prefetch(
                "records",
                to_attr="pending_records",
                queryset=Record.objects.filter(state=State.PENDING)
                .select_related("step")
                .order_by("step__order", "step_id"),
            )
        )[:LONGEST]
    )
    return {
        "steps": steps,
        "stats": stats,
        "colleges": colleges,
        "total": total,
        "done": done,
        "percent": round(100 * done / total, 1) if total else 0.0,
        "slowest": sorted(
            (s for s in stats if s.applicable), key=lambda s: (s.percent, -s.pending)
        )[:5],
        "daily": daily,
        "longest": list(longest),
    }


def daily_chart(daily: list[tuple], width: int = 720, height: int = 200) -> str:
    """Completions per day as an inline SVG bar chart (drawn here: no CDN, no JS library)."""
    if not daily:
        return ""
    days = {d: n for d, n in daily}
    first, last = daily[0][0], daily[-1][0]
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)][-60:]
    top = max(days.get(d, 0) for d in span) or 1
    pad_left, pad_bottom, pad_top = 40, 24, 10
    slot = (width - pad_left) / len(span)
    bar = max(slot * 0.7, 1)
    label = escape(_("每日办结人数"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="w-100 svg-chart" aria-label="{label}">',
        f'<text x="{pad_left - 6}" y="{pad_top + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{pad_left - 6}" y="{height - pad_bottom}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width}" y2="{height - pad_bottom}" '
        'stroke="#adb5bd"/>',
    ]
    plot = height - pad_bottom - pad_top
    bar_title = _("%(day)s：%(n)s 人")
    for i, day in enumerate(span):
        n = days.get(day, 0)
        h = plot * n / top
        x = pad_left + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad_bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="#198754"><title>{escape(bar_title % {"day": day.isoformat(), "n": n})}</title></rect>'
        )
        if i == 0 or i == len(span) - 1 or (len(span) > 2 and i == len(span) // 2):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="11">'
                f"{escape(day.strftime('%m-%d'))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


@office_only
def supervision(request, batch_id: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=batch_id)
    data = dashboard(batch, request.user)
    # Safe: every piece is a number or escaped text (dates, labels), assembled in daily_chart.
    data["chart"] = mark_safe(daily_chart(data["daily"]))  # noqa: S308
    return render(request, "console/supervision/dashboard.html", {"batch": batch, **data})


@office_only
def supervision_export(request, batch_id: int):
    batch = get_object_or_404(Batch.objects.select_related("category"), pk=batch_id)
    data = dashboard(batch, request.user)
    rows: list[list] = [
        ["环节进度"],
        ["环节", "负责部门", "应办", "已办", "未办", "完成率%", "办理截止日期"],
    ]
    for s in data["stats"]:
        rows.append(
            [
                s.step.title,
                s.step.department.name if s.step.department else "院系",
                s.applicable,
                s.passed,
                s.pending,
                s.percent,
                s.step.deadline.isoformat() if s.step.deadline else "",
            ]
        )
    rows += [
        [],
        ["院系进度"],
        ["院系", "人数", "已办结", "办结率%", *(f"{s.title}未办" for s in data["steps"])],
    ]
    for c in data["colleges"]:
        rows.append([c["college__name"], c["total"], c["done"], c["percent"], *c["pending"]])
    rows += [[], ["每日办结"], ["日期", "人数"], *([d.isoformat(), n] for d, n in data["daily"])]
    rows += [[], ["等待最久的学生"], ["学号", "姓名", "院系", "加入名单时间", "未办环节"]]
    for form in data["longest"]:
        rows.append(
            [
                form.student.student_number,
                form.student.name,
                form.college.name,
                timezone.localtime(form.created_at).strftime("%Y-%m-%d %H:%M"),
                "、".join(r.step.title for r in form.pending_records),
            ]
        )
    services.log(actor(request), "console.supervision.exported", batch=batch)
    summary = [f"{batch.name}：{data['done']} / {data['total']} 人办结（{data['percent']}%）"]
    return xlsx_response(export(summary, rows, sheet="跟进及督办"), f"{batch.name}-跟进及督办.xlsx")


@office_only
@require_POST
def supervision_remind(request, batch_id: int):
    """Notify the handlers of a step (or a college) and the students still pending there."""
    batch = get_object_or_404(Batch, pk=batch_id)
    target = request.POST.get("target", "")
    kind, _sep, raw_id = target.partition(":")
    if not raw_id.isdigit():
        kind = ""
    if kind == "step":
        step = get_object_or_404(Step, category_id=batch.category_id, pk=raw_id)
        pending = list(
            Record.objects.filter(form__batch=batch, step=step, state=State.PENDING).values_list(
                "form_id", "form__college_id", "form__counselor_id", "form__student__user_id"
            )
        )
        # The gate says who handles the step on the students still pending there.
        handlers = set(scope.handlers(batch, step.id, ((f, c, k) for f, c, k, _u in pending)))
        students = {user_id for *_form, user_id in pending}
        where, step_data = f"环节“{step.title}”", {"step": step.id, "step_title": step.title}
        sent = _("已向环节“%(name)s”的 %(handlers)s 名办理人员和 %(students)s 名学生发送站内提醒。")
        name = step.title
    elif kind == "college":
        college = get_object_or_404(College, pk=raw_id)
        unfinished = list(
            Form.objects.filter(
                batch=batch, college=college, completed_at__isnull=True
            ).values_list("id", "college_id", "counselor_id", "student__user_id")
        )
        forms = [(f, c, k) for f, c, k, _u in unfinished]
        # Who handles the college's own steps (院系 steps) on its unfinished forms.
        handlers = set()
        for college_step in Step.objects.filter(
            category_id=batch.category_id, owner_type=OwnerType.COLLEGE
        ).values_list("id", flat=True):
            handlers.update(scope.handlers(batch, college_step, forms))
        students = {user_id for *_form, user_id in unfinished}
        where, step_data = f"院系“{college.name}”", {"college": college.id}
        sent = _("已向院系“%(name)s”的 %(handlers)s 名办理人员和 %(students)s 名学生发送站内提醒。")
        name = college.name
    else:
        messages.error(request, _("请选择要提醒的环节或院系。"))
        return redirect("console:supervision", batch_id=batch.id)
    link = reverse("desk:batch", args=[batch.id])
    with transaction.atomic():
        reached_handlers = notify.send(
            handlers,
            f"督办提醒：{batch.name}",
            f"{where}尚有 {len(students)} 名学生未办结，请尽快办理。",
            link,
        )
        reached_students = notify.send(
            students,
            f"离校手续提醒：{batch.name}",
            "您的离校单还有未办理的环节，请查看办理说明并尽快办理。",
            reverse("portal:home"),
        )
        services.log(
            actor(request),
            "console.reminder.sent",
            batch=batch,
            note=f"督办提醒：{where}",
            data={**step_data, "handlers": reached_handlers, "students": reached_students},
        )
    # `where` above goes into the reminders (default language); the page's message is translated.
    messages.success(
        request,
        sent % {"name": name, "handlers": reached_handlers, "students": reached_students},
    )
    return redirect("console:supervision", batch_id=batch.id)
