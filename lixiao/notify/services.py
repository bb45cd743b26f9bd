"""Sending notifications: one entry point for every channel — in-app, email, group-robot webhook."""

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance import hooks
from lixiao.clearance.models import Form
from lixiao.directory.models import Student
from lixiao.notify.models import Notification, WebhookDelivery
from lixiao.notify.tasks import deliver_webhook, send_emails

STATE_LABELS = {"not_required": "无需办理", "pending": "未办理", "passed": "已办理"}
SOURCE_LABELS = {
    "sync": "数据同步",
    "cascade": "联动",
    "desk": "现场办理",
    "bulk": "批量办理",
    "import": "导入",
    "api": "接口",
    "admin": "管理员",
    "survey": "调查问卷",
    "roster": "名单导入",
}


def send(
    user_ids: Iterable[int], title: str, body: str = "", link: str = "", webhook: bool = False
) -> int:
    """Notify each person once; runs inside the caller's transaction. Returns how many were reached.

    Email (when LIXIAO_EMAIL_NOTIFICATIONS is on) and the webhook (when asked for and
    LIXIAO_WEBHOOK_URL is set) go out from a background task after the transaction commits.
    """
    ids = sorted(set(user_ids))
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(user_id=uid, created_at=now, title=title, body=body, link=link)
            for uid in ids
        ]
    )
    if ids and settings.LIXIAO_EMAIL_NOTIFICATIONS:
        _email_later([(uid, title, body) for uid in ids])
    if webhook:
        post_webhook(f"{title}\n{body}".strip())
    return len(ids)


def post_webhook(text: str) -> WebhookDelivery | None:
    """Queue a WeCom/DingTalk-style text message to the configured group robot."""
    url = settings.LIXIAO_WEBHOOK_URL
    if not url:
        return None
    delivery = WebhookDelivery.objects.create(
        url=url, payload={"msgtype": "text", "text": {"content": text}}
    )
    transaction.on_commit(lambda: deliver_webhook.enqueue(delivery.pk))
    return delivery


def steps_changed(announced: hooks.StepsChanged) -> int:
    """Tell each student whose steps changed, in one notification per student (the writer's hook).

    `changes` is the writer's list of (form id, Change, item); called inside its transaction.
    """
    batch, step_infos, changes, at = (
        announced.batch,
        announced.step_infos,
        announced.changes,
        announced.at,
    )

    titles = {s.id: s.title for s in step_infos}
    lines: dict[int, list[str]] = defaultdict(list)
    for form_id, change, item in changes:
        lines[form_id].append(
            f"“{titles.get(change.step_id, '')}”：{STATE_LABELS.get(change.from_state, '')}"
            f" → {STATE_LABELS.get(change.to_state, '')}"
        )
        if item is not None and item.reason:
            lines[form_id][-1] += f"（{item.reason}）"
    # Two primary-key lookups instead of one join: SQLite plans the join badly for long IN lists
    # (measured 15x slower at 2,000 forms), and a sync writes thousands of these at once.
    form_ids = list(lines)
    student_of: dict[int, int] = {}
    for part in sqlbulk.chunks(form_ids):
        student_of.update(Form.objects.filter(id__in=part).values_list("id", "student_id"))
    user_of_student: dict[int, int] = {}
    for part in sqlbulk.chunks(list(set(student_of.values()))):
        user_of_student.update(Student.objects.filter(id__in=part).values_list("id", "user_id"))
    title = f"离校环节状态变化：{batch.name}"[:128]
    rows = [
        (user_of_student[student_of[fid]], "；".join(lines[fid]))
        for fid in form_ids
        if student_of.get(fid) in user_of_student
    ]
    now = sqlbulk.adapt(at or timezone.now())
    link = reverse("portal:home")
    sqlbulk.insert(
        Notification._meta.db_table,
        ("user_id", "created_at", "title", "body", "link", "read_at"),
        ((uid, now, title, body, link, None) for uid, body in rows),
    )
    if rows and settings.LIXIAO_EMAIL_NOTIFICATIONS:
        _email_later([(uid, title, body) for uid, body in rows])
    return len(rows)


def unread_count(user) -> int:
    if not user or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of this person read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def _email_later(messages: list[tuple[int, str, str]]) -> None:
    transaction.on_commit(lambda: send_emails.enqueue([list(m) for m in messages]))


def deliver_notice(notice: hooks.Notice) -> int:
    """The core's notices for people (a final step reopened, a change request decided)."""
    return send(notice.user_ids, notice.title, notice.body, notice.link)


def connect() -> None:
    """Subscribe to what the core announces (NotifyConfig.ready)."""
    hooks.subscribe(hooks.StepsChanged, steps_changed)
    hooks.subscribe(hooks.Notice, deliver_notice)
