"""Per-step deadline reminders (截止日期提醒), at most one a day per person.

For every enabled batch whose service window is open, the steps whose deadline
(Step.deadline) is at most LIXIAO_DEADLINE_REMIND_DAYS away, or already passed, are "due".

- Each student with a due step still pending gets one notification listing all such steps
  of theirs with their dates (not one per step).
- Each person holding a grant in force on a due step, with students of their reach still
  pending there, gets one notification: per step, how many and the deadline. The counts come
  from queries.step_statistics (maintained tallies; "my students" counted live), so the
  queries grow with handlers, never with students.

It only reads clearance data and writes notifications, its own log (DeadlineReminder: a
unique (kind, user, day) keeps a second run on the same day from sending anything) and one
audit event per run. `manage.py remind_deadlines` runs it (cron, or --every 1d).

The texts are stored and mailed, and whoever reads them later may use either language:
they stay Chinese, as every notification does (docs/translations.md).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from lixiao.clearance import queries, scope, services
from lixiao.clearance.models import Batch, Grant, Record, State, Step, StepTally
from lixiao.notify import services as notify
from lixiao.notify.models import DeadlineReminder

ACTION = "console.reminder.deadlines"
ATTEMPTS = 3  # a concurrent run that took some of today's rows first: plan again


@dataclass
class Message:
    """One notification text and everyone who gets it."""

    kind: str
    user_ids: list[int]
    title: str
    body: str
    link: str
    names: list[str] = field(default_factory=list)  # handlers only, for the dry run's listing


@dataclass
class Due:
    """A due step in one batch, with its students still pending in the whole batch."""

    batch: Batch
    step: Step
    pending: int


@dataclass
class Plan:
    day: date
    days: int
    batches: list[Batch]
    due: list[Due]
    students: list[Message]
    handlers: list[Message]
    already: dict[str, int]  # kind → people left out because they were reminded today

    def reached(self, kind: str) -> int:
        messages = self.students if kind == DeadlineReminder.Kind.STUDENT else self.handlers
        return sum(len(m.user_ids) for m in messages)

    def counts(self) -> dict:
        """What the audit event keeps (steps named in data, never by a foreign key)."""
        return {
            "day": self.day.isoformat(),
            "days": self.days,
            "batches": [b.id for b in self.batches],
            "steps": [
                {
                    "batch": d.batch.id,
                    "step": d.step.id,
                    "step_title": d.step.title,
                    "deadline": d.step.deadline.isoformat(),
                    "pending": d.pending,
                }
                for d in self.due
            ],
            "students": self.reached(DeadlineReminder.Kind.STUDENT),
            "handlers": self.reached(DeadlineReminder.Kind.HANDLER),
            "students_already": self.already.get(DeadlineReminder.Kind.STUDENT, 0),
            "handlers_already": self.already.get(DeadlineReminder.Kind.HANDLER, 0),
        }


def when(deadline: date, day: date) -> str:
    """还有 2 天 / 今天截止 / 已过截止日期 3 天."""
    left = (deadline - day).days
    if left > 0:
        return f"还有 {left} 天"
    if left == 0:
        return "今天截止"
    return f"已过截止日期 {-left} 天"


def deadline_text(step: Step, day: date) -> str:
    return f"截止 {step.deadline:%Y-%m-%d}（{when(step.deadline, day)}）"


def plan(now=None, days: int | None = None) -> Plan:
    """Who would be reminded now, and with what: reads only."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    days = settings.LIXIAO_DEADLINE_REMIND_DAYS if days is None else days
    batches = list(
        Batch.objects.filter(enabled=True, opens_at__lte=now, closes_at__gt=now).order_by(
            "opens_at", "id"
        )
    )
    steps = list(
        Step.objects.filter(
            category_id__in={b.category_id for b in batches},
            deadline__isnull=False,
            deadline__lte=day + timedelta(days=days),
        ).order_by("order", "id")
    )
    due_steps: dict[int, list[Step]] = {
        b.id: [s for s in steps if s.category_id == b.category_id] for b in batches
    }
    batches = [b for b in batches if due_steps[b.id]]
    if not batches:
        return Plan(day, days, [], [], [], [], {})
    backlog = _backlog(batches, due_steps)
    due = [Due(b, s, backlog.get((b.id, s.id), 0)) for b in batches for s in due_steps[b.id]]
    already = {
        kind: set(
            DeadlineReminder.objects.filter(kind=kind, day=day).values_list("user_id", flat=True)
        )
        for kind in DeadlineReminder.Kind.values
    }
    students, skipped_students = _students(batches, due_steps, day, already["student"])
    handlers, skipped_handlers = _handlers(batches, due_steps, day, already["handler"])
    return Plan(
        day,
        days,
        batches,
        due,
        students,
        handlers,
        {
            DeadlineReminder.Kind.STUDENT: skipped_students,
            DeadlineReminder.Kind.HANDLER: skipped_handlers,
        },
    )


def _backlog(batches, due_steps) -> dict[tuple[int, int], int]:
    """Students still pending per (batch, step) in the whole batch, from the tallies."""
    rows = (
        StepTally.objects.filter(
            batch_id__in=[b.id for b in batches],
            step_id__in={s.id for steps in due_steps.values() for s in steps},
        )
        .values_list("batch_id", "step_id")
        .annotate(n=Sum("pending"))
        .order_by()
    )
    return {(batch_id, step_id): n for batch_id, step_id, n in rows}


def _students(batches, due_steps, day, already: set[int]) -> tuple[list[Message], int]:
    """One message per distinct set of due steps: students with the same steps share a text."""
    batch_of = {b.id: b for b in batches}
    step_of = {s.id: s for steps in due_steps.values() for s in steps}
    # (batch id, step id) → its place in a text: batches as listed, steps in their order.
    position = {
        (b.id, s.id): i for i, (b, s) in enumerate((b, s) for b in batches for s in due_steps[b.id])
    }
    mine: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = (
        Record.objects.filter(
            form__batch_id__in=list(batch_of), step_id__in=list(step_of), state=State.PENDING
        )
        .values_list("form__student__user_id", "form__batch_id", "step_id")
        .order_by()
    )
    for user_id, batch_id, step_id in rows.iterator(chunk_size=5000):
        if (batch_id, step_id) in position:
            mine[user_id].append((batch_id, step_id))
    skipped = 0
    groups: dict[tuple, list[int]] = defaultdict(list)
    for user_id, keys in mine.items():
        if user_id in already:
            skipped += 1
            continue
        groups[tuple(sorted(keys, key=position.__getitem__))].append(user_id)
    messages = []
    for keys, user_ids in sorted(groups.items(), key=lambda g: [position[k] for k in g[0]]):
        several = len({batch_id for batch_id, _ in keys}) > 1
        items = [
            (f"{batch_of[b].name} · " if several else "")
            + f"“{step_of[s].title}”{deadline_text(step_of[s], day)}"
            for b, s in keys
        ]
        title = "离校环节截止提醒" + ("" if several else f"：{batch_of[keys[0][0]].name}")
        body = "您的离校单上以下环节尚未办理，请按办理说明尽快办理：" + "；".join(items) + "。"
        messages.append(
            Message(
                DeadlineReminder.Kind.STUDENT, sorted(user_ids), title[:128], body,
                reverse("portal:home"),
            )
        )  # fmt: skip
    return messages, skipped


def _handlers(batches, due_steps, day, already: set[int]) -> tuple[list[Message], int]:
    """Per person with a grant in force on a due step: their pending students per step."""
    batch_of = {b.id: b for b in batches}
    grants = (
        Grant.objects.filter(
            batch_id__in=list(batch_of),
            step_id__in={s.id for steps in due_steps.values() for s in steps},
            user__is_active=True,
        )
        .select_related("user", "step", "batch")
        .order_by("user_id", "batch_id", "step__order", "step_id")
    )
    held: dict[int, dict[int, list[Grant]]] = defaultdict(lambda: defaultdict(list))
    users = {}
    for grant in grants:
        held[grant.user_id][grant.batch_id].append(grant)
        users[grant.user_id] = grant.user
    skipped = 0
    texts: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for user_id, by_batch in held.items():
        user = users[user_id]
        lines, linked = [], set()
        for batch in batches:
            # The gate decides which of these grants are in force on the day and what they reach.
            reach = scope.reach(user, batch.id, by_batch.get(batch.id, []), day)
            if reach is None:
                continue
            # Only the steps they hold a grant on (the office's reach would list every step).
            due = {s.id for s in due_steps[batch.id]} & {g.step_id for g in by_batch[batch.id]}
            steps = [s for s in reach.steps if s.id in due]
            for stats in queries.step_statistics(reach, steps):
                if stats.pending:
                    lines.append(
                        f"{batch.name} · “{stats.step.title}”：未办理 {stats.pending} 人，"
                        + deadline_text(stats.step, day)
                    )
                    linked.add(batch.id)
        if not lines:
            continue
        if user_id in already:
            skipped += 1
            continue
        if len(linked) == 1:
            link = reverse("desk:batch", args=[linked.pop()])
        else:
            link = reverse("desk:home")
        body = "以下环节截止日期将至或已过，您负责范围内仍有学生未办理：" + "；".join(lines) + "。"
        texts[("环节截止提醒：仍有学生未办理", body, link)].append(user_id)
    messages = [
        Message(
            DeadlineReminder.Kind.HANDLER, sorted(user_ids), title, body, link,
            names=[f"{users[u].username}（{users[u].name}）" for u in sorted(user_ids)],
        )
        for (title, body, link), user_ids in texts.items()
    ]  # fmt: skip
    return messages, skipped


def remind(now=None, days: int | None = None, dry_run: bool = False) -> Plan:
    """Plan and (unless dry_run) send today's reminders, log them and audit the run."""
    for attempt in range(ATTEMPTS):
        current = plan(now, days)
        if dry_run:
            return current
        try:
            with transaction.atomic():
                _send(current, now)
        except IntegrityError:
            # Another run took some of today's (kind, user, day) rows between our plan and
            # our insert: nothing of ours was kept; plan again without those people.
            if attempt + 1 == ATTEMPTS:
                raise
            continue
        return current
    raise AssertionError("unreachable")


def _send(p: Plan, now=None) -> None:
    now = now or timezone.now()
    messages = [*p.students, *p.handlers]
    DeadlineReminder.objects.bulk_create(
        [
            DeadlineReminder(kind=m.kind, user_id=user_id, day=p.day, sent_at=now)
            for m in messages
            for user_id in m.user_ids
        ],
        batch_size=2000,
    )
    for m in messages:
        notify.send(m.user_ids, m.title, m.body, m.link)
    if p.handlers:
        # The departments' group robot gets one summary of the backlog, when one is configured.
        lines = [
            f"{d.batch.name} · “{d.step.title}”：未办理 {d.pending} 人，{deadline_text(d.step, p.day)}"
            for d in p.due
            if d.pending
        ]
        notify.post_webhook("离校环节截止提醒\n" + "\n".join(lines))
    services.log(
        services.Actor(user=None, source="", trusted=True),
        ACTION,
        note=f"截止日期提醒：学生 {p.reached('student')} 人，办理人员 {p.reached('handler')} 人",
        data=p.counts(),
    )
