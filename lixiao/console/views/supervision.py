"""Follow-up and pressing (跟进及督办) for one batch: progress and forecast from tallies, export,
reminders."""

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from lixiao.clearance import forecast, scope, services
from lixiao.clearance.models import Batch, Form, OwnerType, Record, State, Step
from lixiao.console import dashboard
from lixiao.console.access import actor
from lixiao.console.views.roster import office_only, xlsx_response
from lixiao.directory.models import College
from lixiao.notify import services as notify
from lixiao.tabular.writer import export

# The export's words for a forecast (files stay Chinese, whatever the page's language).
OUTLOOK_WORDS = {
    forecast.DONE: "已完成",
    forecast.ON_TRACK: "预计按时完成",
    forecast.LATE: "预计逾期",
    forecast.STALLED: "停滞（近 7 天无进展）",
    forecast.OVERDUE: "已逾期",
    forecast.UNKNOWN: "暂无预测",
}


def _reach(request, batch_id: int) -> scope.Reach:
    reach = scope.reach(request.user, batch_id)  # the office's: every step of the batch
    if reach is None:
        raise Http404
    return reach


@office_only
def supervision(request, batch_id: int):
    reach = _reach(request, batch_id)
    subject = dashboard.subject(reach, request.GET.get("burndown", ""))
    return render(
        request,
        "console/supervision/dashboard.html",
        {"batch": reach.batch, "section": dashboard.section(reach, subject)},
    )


def _day(d) -> str:
    return d.isoformat() if d else ""


def _pace(p: forecast.Projection):
    return round(p.per_day, 1) if p.per_day is not None else ""


@office_only
def supervision_export(request, batch_id: int):
    reach = _reach(request, batch_id)
    batch = reach.batch
    data = dashboard.dashboard(reach)
    rows: list[list] = [
        ["环节进度"],
        [
            "环节",
            "负责部门",
            "应办",
            "已办",
            "未办",
            "完成率%",
            "办理截止日期",
            "近7天日均办理",
            "预计完成日期",
            "预测",
        ],
    ]
    for row in data["step_rows"]:
        s, p = row["s"], row["p"]
        rows.append(
            [
                s.step.title,
                s.step.department.name if s.step.department else "院系",
                s.applicable,
                s.passed,
                s.pending,
                s.percent,
                _day(s.step.deadline),
                _pace(p),
                _day(p.finish) if p.remaining else "",
                OUTLOOK_WORDS[p.status],
            ]
        )
    rows += [
        [],
        ["院系进度"],
        [
            "院系",
            "人数",
            "已办结",
            "办结率%",
            "近7天日均办结",
            "预计全部办结日期",
            "预测",
            *(f"{s.title}未办" for s in data["steps"]),
        ],
    ]
    for c in data["colleges"]:
        p = c["p"]
        rows.append(
            [
                c["college__name"],
                c["total"],
                c["done"],
                c["percent"],
                _pace(p),
                _day(p.finish) if p.remaining else "",
                OUTLOOK_WORDS[p.status],
                *c["pending"],
            ]
        )
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
    overall = data["overall"]
    summary = [
        f"{batch.name}：{data['done']} / {data['total']} 人办结（{data['percent']}%）",
        f"预测：{OUTLOOK_WORDS[overall.status]}"
        + (
            f"，预计 {_day(overall.finish)} 全部办结"
            if overall.finish and overall.remaining
            else ""
        )
        + f"（批次结束 {_day(overall.target)}）",
    ]
    return xlsx_response(export(summary, rows, sheet="跟进及督办"), f"{batch.name}-跟进及督办.xlsx")


@dataclass
class Target:
    """One unit to remind: its handlers and pending students, and how it is named."""

    kind: str  # "step" or "college"
    handlers: set[int]
    students: set[int]
    where: str  # in the reminders and the audit (stored: Chinese)
    data: dict  # for the audit event
    name: str  # the unit's own name, for the page's message


def _target(batch: Batch, raw: str) -> Target | None:
    """One reminder target from the form: "step:ID" or "college:ID"."""
    kind, _sep, raw_id = raw.partition(":")
    if not raw_id.isdigit():
        return None
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
        where = f"环节“{step.title}”"
        return Target(
            "step",
            handlers,
            students,
            where,
            {"step": step.id, "step_title": step.title},
            step.title,
        )
    if kind == "college":
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
        where = f"院系“{college.name}”"
        return Target("college", handlers, students, where, {"college": college.id}, college.name)
    return None


@office_only
@require_POST
def supervision_remind(request, batch_id: int):
    """Notify the handlers of each chosen step or college and the students still pending there.

    The page's checkboxes (lagging units ticked in advance) send `target` several times; a
    row's own button sends `only` with its unit, and then that unit alone is reminded.
    """
    batch = get_object_or_404(Batch, pk=batch_id)
    if batch.archived_at is not None:
        messages.error(request, _("本批次已归档，不再发送督办提醒。"))
        return redirect("console:supervision", batch_id=batch.id)
    only = request.POST.get("only", "")
    wanted = [only] if only else list(dict.fromkeys(request.POST.getlist("target")))
    targets = [t for t in (_target(batch, raw) for raw in wanted) if t is not None]
    if not targets:
        messages.error(request, _("请选择要提醒的环节或院系。"))
        return redirect("console:supervision", batch_id=batch.id)
    link = reverse("desk:batch", args=[batch.id])
    with transaction.atomic():
        for target in targets:
            target.data["handlers"] = notify.send(
                target.handlers,
                f"督办提醒：{batch.name}",
                f"{target.where}尚有 {len(target.students)} 名学生未办结，请尽快办理。",
                link,
            )
            target.data["students"] = len(target.students)
        # A student behind on several chosen units gets one reminder, not one per unit.
        reached_students = notify.send(
            set().union(*(t.students for t in targets)),
            f"离校手续提醒：{batch.name}",
            "您的离校单还有未办理的环节，请查看办理说明并尽快办理。",
            reverse("portal:home"),
        )
        for target in targets:
            services.log(
                actor(request),
                "console.reminder.sent",
                batch=batch,
                note=f"督办提醒：{target.where}",
                data=target.data,
            )
    # `where` above goes into the reminders (default language); the page's message is translated.
    if len(targets) == 1:
        target = targets[0]
        if target.kind == "step":
            sent = _(
                "已向环节“%(name)s”的 %(handlers)s 名办理人员和 %(students)s 名学生发送站内提醒。"
            )
        else:
            sent = _(
                "已向院系“%(name)s”的 %(handlers)s 名办理人员和 %(students)s 名学生发送站内提醒。"
            )
        values = {"name": target.name, "handlers": target.data["handlers"]}
    else:
        sent = _(
            "已向 %(count)s 个环节或院系（%(names)s）的 %(handlers)s 名办理人员和 "
            "%(students)s 名学生发送站内提醒。"
        )
        values = {
            "count": len(targets),
            "names": pgettext("list separator", "、").join(t.name for t in targets),
            "handlers": len(set().union(*(t.handlers for t in targets))),
        }
    messages.success(request, sent % {**values, "students": reached_students})
    return redirect("console:supervision", batch_id=batch.id)
