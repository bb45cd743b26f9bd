"""Everything Lixiao holds about one student (PIPL art. 45), as JSON and as an Excel workbook.

Read in a fixed number of queries however many forms, steps, messages or logins: the student,
forms, records, their history, survey questions, messages, appointments, notifications, logins
and integration rows. Always the requesting student's own data: nothing here takes an id. The ID
number stays masked as on screen. The file is Chinese whatever the page language (files stay
Chinese); JSON keys are English so that programs can read it.
"""

import json
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from lixiao.appointments.models import Booking
from lixiao.clearance import queries
from lixiao.clearance.models import Event, Form, Record, Source, State
from lixiao.directory.models import Student
from lixiao.integrations.models import SourceRow
from lixiao.notify.models import Notification
from lixiao.objections.models import Objection
from lixiao.portal import pages
from lixiao.survey.models import Question
from lixiao.tabular import writer

FORMAT = "lixiao-own-data/1"
STATE_LABELS = dict(State.choices)
SOURCE_LABELS = dict(Source.choices)
LOGIN_ACTIONS = {
    "accounts.login.succeeded": _("登录成功"),
    "accounts.login.failed": _("登录失败"),
    "accounts.logout": _("退出登录"),
    "portal.own_data.downloaded": _("下载个人数据"),
}


def _at(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _profile(student: Student) -> dict:
    user = student.user
    return {
        "student_number": student.student_number,
        "name": student.name,
        "gender": student.gender,
        "college": student.college.name,
        "major": student.major,
        "class_name": student.class_name,
        "student_type": student.student_type,
        "political_status": student.political_status,
        "dormitory": student.dormitory,
        "phone": student.phone,
        "id_number_masked": student.id_number_masked,
        "account": {
            "username": user.username,
            "email": user.email,
            "active": user.is_active,
            "created_at": _at(user.date_joined),
            "last_login": _at(user.last_login),
            "uses_initial_password": user.uses_initial_password,
        },
    }


def _survey(form: Form, questions: dict[int, Question]) -> dict | None:
    response = getattr(form, "survey_response", None)
    if response is None:
        return None
    answers = []
    for key, answer in response.answers.items():
        question = questions.get(int(key)) if str(key).isdigit() else None
        answers.append({"question": question.text if question else key, "answer": answer})
    return {"submitted_at": _at(response.submitted_at), "answers": answers}


def _forms(student: Student) -> list[dict]:
    forms = list(
        Form.objects.filter(student=student)
        .select_related("batch", "batch__category", "counselor", "survey_response")
        .order_by("-batch__opens_at", "-batch_id")
    )
    form_ids = [f.id for f in forms]
    records = Record.objects.select_related("step", "step__department").order_by(
        "step__order", "step_id"
    )
    prefetch_related_objects(forms, Prefetch("records", queryset=records))
    history = pages._history(form_ids)
    categories = {f.batch.category_id for f in forms if getattr(f, "survey_response", None)}
    questions = {q.id: q for q in Question.objects.filter(category_id__in=categories)}
    result = []
    for form in forms:
        batch = form.batch
        result.append(
            {
                "batch": batch.name,
                "academic_year": batch.academic_year,
                "student_type": batch.student_type,
                "category": batch.category.name,
                "created_at": _at(form.created_at),
                "completed_at": _at(form.completed_at),
                "counselor": form.counselor.name if form.counselor else "",
                "progress": "{}/{}".format(*queries.progress(form)),
                "survey": _survey(form, questions),
                "steps": [
                    {
                        "step": r.step.title,
                        "unit": r.step.department.name
                        if r.step.department
                        else student.college.name,
                        "required": r.step.required,
                        "state": r.state,
                        "state_label": STATE_LABELS.get(r.state, r.state),
                        "handled_at": _at(r.handled_at),
                        "note": r.note,
                        "source": SOURCE_LABELS.get(r.source, r.source),
                        "reason": r.reason,
                        "history": [
                            {
                                "at": _at(line.at),
                                "unit": line.unit,
                                "who": line.who,
                                "from": line.from_label,
                                "to": line.to_label,
                                "note": line.note,
                            }
                            for line in history.get(r.id, [])
                        ],
                    }
                    for r in form.records.all()
                ],
            }
        )
    return result


def _messages(student: Student) -> list[dict]:
    rows = Objection.objects.filter(form__student=student).select_related("step", "form__batch")
    return [
        {
            "batch": m.form.batch.name,
            "step": m.step.title,
            "kind": m.get_kind_display(),
            "message": m.message,
            "status": m.get_status_display(),
            "created_at": _at(m.created_at),
            "reply": m.reply,
            "replied_at": _at(m.replied_at),
            "attachment": {"name": m.attachment_name, "type": m.attachment_type}
            if m.attachment
            else None,
        }
        for m in rows.order_by("created_at", "id")
    ]


def _appointments(student: Student) -> list[dict]:
    rows = Booking.objects.filter(form__student=student).select_related(
        "slot", "plan__step", "plan__batch"
    )
    return [
        {
            "batch": b.plan.batch.name,
            "step": b.plan.step.title,
            "starts_at": _at(b.slot.starts_at),
            "ends_at": _at(b.slot.ends_at),
            "status": b.get_status_display(),
            "booked_at": _at(b.created_at),
            "arrived_at": _at(b.arrived_at),
            "closed_at": _at(b.closed_at),
        }
        for b in rows.order_by("slot__starts_at", "id")
    ]


def _notifications(user) -> list[dict]:
    return [
        {
            "created_at": _at(n.created_at),
            "title": n.title,
            "body": n.body,
            "read_at": _at(n.read_at),
        }
        for n in Notification.objects.filter(user=user).order_by("created_at", "id")
    ]


def login_events(user, limit: int | None = None):
    """The account's logins, failed attempts on its username, logouts and data downloads,
    newest first; each with `label`, the event in words."""
    events = Event.objects.filter(
        Q(actor=user, action__in=LOGIN_ACTIONS)
        | Q(actor__isnull=True, action="accounts.login.failed", data__username=user.username)
    ).order_by("-at", "-id")
    events = events.only("at", "action", "client_ip", "data")
    for event in events[:limit] if limit else events:
        event.label = str(LOGIN_ACTIONS.get(event.action, event.action))
        yield event


def logins(user) -> list[dict]:
    return [
        {
            "at": _at(e.at),
            "action": e.label,
            "client_ip": e.client_ip or "",
            "method": "统一身份认证" if (e.data or {}).get("method") == "cas" else "",
        }
        for e in login_events(user)
    ]


def _integration_rows(student: Student) -> list[dict]:
    rows = SourceRow.objects.filter(student_number=student.student_number).select_related("source")
    return [
        {
            "source": row.source.name,
            "cleared": row.cleared,
            "reason": row.reason,
            "amount": str(row.amount) if row.amount is not None else "",
            "updated_at": _at(row.updated_at),
        }
        for row in rows.order_by("source_id")
    ]


def collect(user) -> dict:
    """Everything held about this student, in Chinese (files stay Chinese)."""
    with translation.override(settings.LANGUAGE_CODE):
        student = Student.objects.select_related("user", "college").get(user=user)
        data = {
            "format": FORMAT,
            "generated_at": _at(timezone.now()),
            "profile": _profile(student),
            "forms": _forms(student),
            "messages": _messages(student),
            "appointments": _appointments(student),
            "notifications": _notifications(user),
            "logins": logins(user),
            "integration_data": _integration_rows(student),
        }
        # Labels are lazy translations: rendered here, while Chinese is active.
        return json.loads(json.dumps(data, default=str))


def as_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def _yes(value: bool) -> str:
    return "是" if value else "否"


PROFILE_LABELS = {
    "student_number": "学号",
    "name": "姓名",
    "gender": "性别",
    "college": "院系",
    "major": "专业",
    "class_name": "班级",
    "student_type": "学生类别",
    "political_status": "政治面貌",
    "dormitory": "宿舍",
    "phone": "联系电话",
    "id_number_masked": "身份证件号（脱敏）",
}


def as_xlsx(data: dict) -> bytes:
    profile, account = data["profile"], data["profile"]["account"]
    facts = [(label, profile[key]) for key, label in PROFILE_LABELS.items()] + [
        ("账号", account["username"]),
        ("电子邮箱", account["email"]),
        ("账号启用", _yes(account["active"])),
        ("账号创建时间", account["created_at"]),
        ("最近登录", account["last_login"]),
        ("仍使用初始密码", _yes(account["uses_initial_password"])),
        ("导出时间", data["generated_at"]),
    ]
    forms = data["forms"]
    steps = [(f["batch"], s) for f in forms for s in f["steps"]]
    surveys = [
        (f["batch"], f["survey"]["submitted_at"], a) for f in forms if f["survey"]
        for a in f["survey"]["answers"]
    ]  # fmt: skip
    return writer.workbook(
        [
            ("个人信息", ["项目", "内容"], facts),
            (
                "离校单",
                ["批次", "学年", "学生类别", "离校类别", "创建时间", "办结时间", "辅导员", "进度"],
                [
                    [
                        f["batch"],
                        f["academic_year"],
                        f["student_type"],
                        f["category"],
                        f["created_at"],
                        f["completed_at"],
                        f["counselor"],
                        f["progress"],
                    ]
                    for f in forms
                ],
            ),  # fmt: skip
            (
                "环节状态",
                [
                    "批次",
                    "环节",
                    "办理单位",
                    "是否必办",
                    "状态",
                    "办理时间",
                    "备注",
                    "来源",
                    "集成表说明",
                ],
                [
                    [
                        b,
                        s["step"],
                        s["unit"],
                        _yes(s["required"]),
                        s["state_label"],
                        s["handled_at"],
                        s["note"],
                        s["source"],
                        s["reason"],
                    ]
                    for b, s in steps
                ],
            ),  # fmt: skip
            (
                "办理记录",
                ["批次", "环节", "时间", "办理单位", "原状态", "新状态", "说明"],
                [
                    [
                        b,
                        s["step"],
                        h["at"],
                        h["unit"] + (f"（{h['who']}）" if h["who"] else ""),
                        h["from"],
                        h["to"],
                        h["note"],
                    ]
                    for b, s in steps
                    for h in s["history"]
                ],
            ),  # fmt: skip
            (
                "留言与附件",
                ["批次", "环节", "类型", "留言", "状态", "提交时间", "答复", "答复时间", "附件"],
                [
                    [
                        m["batch"],
                        m["step"],
                        m["kind"],
                        m["message"],
                        m["status"],
                        m["created_at"],
                        m["reply"],
                        m["replied_at"],
                        m["attachment"]["name"] or m["attachment"]["type"]
                        if m["attachment"]
                        else "",
                    ]
                    for m in data["messages"]
                ],
            ),  # fmt: skip
            (
                "预约",
                ["批次", "环节", "开始时间", "结束时间", "状态", "预约时间", "签到时间", "结束于"],
                [
                    [
                        a["batch"],
                        a["step"],
                        a["starts_at"],
                        a["ends_at"],
                        a["status"],
                        a["booked_at"],
                        a["arrived_at"],
                        a["closed_at"],
                    ]
                    for a in data["appointments"]
                ],
            ),  # fmt: skip
            (
                "调查问卷",
                ["批次", "提交时间", "题目", "回答"],
                [
                    [
                        b,
                        at,
                        a["question"],
                        "、".join(a["answer"]) if isinstance(a["answer"], list) else a["answer"],
                    ]
                    for b, at, a in surveys
                ],
            ),  # fmt: skip
            (
                "通知",
                ["时间", "标题", "内容", "阅读时间"],
                [
                    [n["created_at"], n["title"], n["body"], n["read_at"]]
                    for n in data["notifications"]
                ],
            ),
            (
                "登录记录",
                ["时间", "事件", "地址", "方式"],
                [[e["at"], e["action"], e["client_ip"], e["method"]] for e in data["logins"]],
            ),
            (
                "集成表数据",
                ["集成表", "已结清", "原因", "金额", "更新时间"],
                [
                    [r["source"], _yes(r["cleared"]), r["reason"], r["amount"], r["updated_at"]]
                    for r in data["integration_data"]
                ],
            ),
        ]
    )


def filename(data: dict, extension: str) -> str:
    day = datetime.fromisoformat(data["generated_at"]).strftime("%Y%m%d")
    return f"lixiao-{data['profile']['student_number']}-{day}.{extension}"
