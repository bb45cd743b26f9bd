"""A fortnight of departure work replayed through the one writer, so records, events and tallies are real.

Each form gets a plan (which steps passed, on which day since the window opened); the plan
is then applied day by day as the people who would have done it: nightly syncs for the
automatic steps (with the source's reason while pending), department handlers at their
desks or in bulk, counselors for the college steps, and the final step last.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone as django_timezone

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Record, Source, State, Step

# Phases of a day, in the order they are applied (and stamped).
SYNC, DEPARTMENT, REVOKE, COLLEGE, FINAL = range(5)
DESK_SHARE = 0.04  # the rest of a day's passes go in one bulk selection
COUNSELOR_EVERY = 3  # days between a counselor's sessions on the college steps
REVOKE_SHARE = 0.02  # dormitory passes taken back after a later inspection
TOGETHER = 0.65  # how often a step follows the student's own pace rather than chance


@dataclass
class FormInfo:
    form_id: int
    student_number: str
    college: str  # college code
    pending: set[int]  # applicable step ids (all pending right after enrolment)


@dataclass
class Override:
    """A demo student's fixed story: which steps passed (None: every applicable one)."""

    passed: set[str] | None
    reasons: dict[str, str] = field(
        default_factory=dict
    )  # automatic step title → reason while pending


@dataclass
class Cast:
    """Who does the work."""

    handlers: dict[str, object]  # department step title → handler user
    counselors: dict[str, object]  # college code → counselor user


class Replay:
    def __init__(self, batch: Batch, cast: Cast, rng: random.Random, now: datetime):
        self.batch = batch
        self.cast = cast
        self.rng = rng
        self.now = now
        self.opens = django_timezone.localtime(batch.opens_at)
        self.days = max(1, (now.date() - self.opens.date()).days)
        self.steps = list(
            Step.objects.filter(category_id=batch.category_id)
            .select_related("source")
            .order_by("order", "id")
        )
        self.final = next(s for s in self.steps if s.is_final)
        self.required = [s for s in self.steps if s.required and not s.is_final]
        # (day, phase, step id, college code or "") → [(form id, to_state, reason, note)]
        self.work: dict[tuple, list[tuple[int, str, str | None, str]]] = defaultdict(list)

    # -- planning --------------------------------------------------------------------------

    def plan(
        self, forms: list[FormInfo], overrides: dict[str, Override], rates: dict[str, float]
    ) -> None:
        for form in forms:
            override = overrides.get(form.student_number)
            passed = self._passes(form, override, rates)
            for step in self.steps:
                if step.id not in form.pending or step.is_final:
                    continue
                if step.automatic:
                    day = passed.get(step.id)
                    # The first sync gives every student still owing something the source's reason.
                    if day != 0:
                        reason = (
                            override.reasons.get(step.title) if override else None
                        ) or self._reason(step)
                        self._add(0, SYNC, step, "", form.form_id, State.PENDING, reason)
                    if day is not None:
                        self._add(day, SYNC, step, "", form.form_id, State.PASSED, "")
                elif step.owner_type == "college" and step.id in passed:
                    self._add(
                        passed[step.id], COLLEGE, step, form.college, form.form_id, State.PASSED
                    )
                elif step.id in passed:  # a department's handler works school-wide
                    self._add(passed[step.id], DEPARTMENT, step, "", form.form_id, State.PASSED)
            if self.final.id in passed:
                self._add(
                    passed[self.final.id],
                    FINAL,
                    self.final,
                    form.college,
                    form.form_id,
                    State.PASSED,
                )

    def _passes(
        self, form: FormInfo, override: Override | None, rates: dict[str, float]
    ) -> dict[int, int]:
        """Step id → day it passed, for one form."""
        rng, pace = self.rng, self.rng.random()
        passed: dict[int, int] = {}
        for step in self.steps:
            if step.is_final or step.id not in form.pending:
                continue
            if override is not None:
                if override.passed is None or step.title in override.passed:
                    passed[step.id] = rng.randint(
                        0 if step.automatic else min(1, self.days - 1), self.days - 1
                    )
                continue
            chance = pace if rng.random() < TOGETHER else rng.random()
            if chance < rates[step.title]:
                day = rng.randint(0, self.days)
                passed[step.id] = self._office_day(day) if step.owner_type == "college" else day
        standing = dict(passed)  # what is still passed at the end, for the final gate
        dorm = next((s for s in self.steps if s.title == "学生公寓"), None)
        if (
            override is None
            and dorm
            and dorm.id in passed
            and passed[dorm.id] < self.days
            and rng.random() < REVOKE_SHARE
        ):
            self._add(
                rng.randint(passed[dorm.id] + 1, self.days),
                REVOKE,
                dorm,
                "",
                form.form_id,
                State.PENDING,
                note="宿舍检查发现公物损坏，请按价赔偿后重新办理",
            )
            del standing[dorm.id]
        prerequisites = [standing.get(s.id) for s in self.required if s.id in form.pending]
        if self.final.id in form.pending and None not in prerequisites:
            wanted = override.passed is None if override else rng.random() < rates[self.final.title]
            if wanted:
                passed[self.final.id] = self._office_day(
                    max(prerequisites, default=0) + rng.randint(0, 3)
                )
        return passed

    def _office_day(self, day: int) -> int:
        """Counselors handle their college's steps every few days, not whenever a student turns up."""
        return min(self.days, day + (-day) % COUNSELOR_EVERY)

    def _add(self, day, phase, step, college, form_id, to_state, reason=None, note=""):
        self.work[(day, phase, step.id, college)].append((form_id, to_state, reason, note))

    # -- applying --------------------------------------------------------------------------

    def apply(self) -> None:
        by_id = {s.id: s for s in self.steps}
        for (day, phase, step_id, college), items in sorted(self.work.items()):
            step = by_id[step_id]
            if phase == SYNC:
                self._run(services.Actor.system(Source.SYNC), step, items, self._at(day, phase))
                continue
            user = (
                self.cast.counselors[college]
                if step.owner_type == "college"
                else self.cast.handlers[step.title]
            )
            at_desk = [phase == REVOKE or self.rng.random() < DESK_SHARE for _ in items]
            desk = [item for item, single in zip(items, at_desk, strict=True) if single]
            bulk = [item for item, single in zip(items, at_desk, strict=True) if not single]
            for item in desk:
                self._run(self._actor(user, Source.DESK), step, [item], self._at(day, phase))
            if bulk:
                self._run(self._actor(user, Source.BULK), step, bulk, self._at(day, phase))

    def _reason(self, step: Step) -> str:
        """What the source says while the student still owes something."""
        rng = self.rng
        if step.source and step.source.code == "finance":
            amount = rng.choice([1200, 1200, 5300, 2650, 800, 350, 4600]) + rng.choice(
                [0, 0, 0, 0.5, 37.5]
            )
            return f"欠费 {amount:,.2f} 元"
        if rng.random() < 0.85:
            return f"未还图书 {rng.choices([1, 2, 3, 4, 5], weights=[45, 30, 13, 8, 4])[0]} 册"
        return f"图书逾期滞纳金未缴 {rng.randint(1, 40) * 0.1 + 0.4:.2f} 元"

    def _actor(self, user, source: str) -> services.Actor:
        return services.Actor(
            user=user,
            source=source,
            client_ip=f"10.20.{self.rng.randint(1, 60)}.{self.rng.randint(2, 250)}",
        )

    def _at(self, day: int, phase: int) -> datetime:
        """When work of this phase happened on this day (never in the future, phases in order)."""
        date = self.opens.date() + timedelta(days=day)
        if phase == SYNC:
            minutes = 2 * 60 + self.rng.randint(0, 9)
        elif phase == FINAL:
            minutes = 16 * 60 + 30 + self.rng.randint(0, 55)
        else:
            minutes = 9 * 60 + self.rng.randint(0, 7 * 60)
        at = django_timezone.make_aware(datetime.combine(date, time()) + timedelta(minutes=minutes))
        if day == 0 and at < self.opens:
            at = self.opens + timedelta(minutes=5 + phase)
        if at >= self.now:
            at = self.now - timedelta(
                minutes=(FINAL + 1 - phase) * 3, seconds=self.rng.randint(0, 150)
            )
        return at

    def _run(self, actor: services.Actor, step: Step, items, at: datetime) -> None:
        wanted = [
            services.Item(form_id, to_state, note, reason)
            for form_id, to_state, reason, note in items
        ]
        outcome = services.apply_many(actor, self.batch, step, wanted, at=at)
        if outcome.refused:
            form_id, _code, message = outcome.refused[0]
            raise RuntimeError(f"演示数据计划有误：{step.title} 表单 {form_id}：{message}")


def forms_of(batch: Batch) -> list[FormInfo]:
    """Every form of the batch with its applicable steps, read back after enrolment."""
    forms: dict[int, FormInfo] = {}
    rows = (
        Record.objects.filter(form__batch=batch)
        .values_list(
            "form_id", "form__student__student_number", "form__college__code", "step_id", "state"
        )
        .order_by("form_id", "step_id")
    )
    for form_id, number, college, step_id, state in rows:
        info = forms.setdefault(form_id, FormInfo(form_id, number, college, set()))
        if state == State.PENDING:
            info.pending.add(step_id)
    return list(forms.values())
