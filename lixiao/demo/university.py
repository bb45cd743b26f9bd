"""Build the demo university in one transaction: places, categories, batches, people, grants, progress."""

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from lixiao.appointments.models import Booking
from lixiao.clearance import services
from lixiao.clearance.models import (
    Batch,
    Category,
    CompletionRule,
    Form,
    Grant,
    OwnerType,
    Record,
    Scope,
    Source,
    State,
    Step,
)
from lixiao.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_TOKENS, INITIAL_STUDENT_NUMBER, DemoAccount
from lixiao.demo import appointments as demo_appointments
from lixiao.demo import catalogue as cat
from lixiao.demo import survey as demo_survey
from lixiao.demo.people import SEED, Generator, Person
from lixiao.demo.progress import Cast, Override, Replay, forms_of
from lixiao.directory.models import College, Department, Staff, Student, StudentType, User
from lixiao.directory.services import upsert_students
from lixiao.integrations.models import IntegrationSource, SourceRow
from lixiao.integrations.services import set_token

DEFAULT_STUDENTS = 2400
MIN_STUDENTS = 20
WINDOW_OPENED_DAYS_AGO = 14

# The walk-through students' stories: red, green and grey on 2022000001; complete; all pending.
OVERRIDES = {
    "2022000001": Override({"财务处", "学生公寓", "校园卡中心"}, {"图书馆": "未还图书 2 册"}),
    "2022000002": Override(None),
    "2022000003": Override(set(), {"图书馆": "未还图书 1 册", "财务处": "欠费 1,200.00 元"}),
    INITIAL_STUDENT_NUMBER: Override({"图书馆", "财务处"}),
}


class DemoConflict(Exception):
    """The database holds other data the demo would collide with; the message says what."""


@dataclass
class Summary:
    colleges: int
    students: int
    batches: list[tuple[str, int, int]]  # name, forms, complete forms
    accounts: list[DemoAccount]
    bookings: int = 0  # 预约 of 学生公寓 and 档案馆


def graduating_year(today: date) -> int:
    """The academic year runs September to August: in November 2026 the graduates leave in 2027."""
    return today.year + 1 if today.month >= 9 else today.year


def batch_names(year: int) -> list[str]:
    return [f"{year}届本科生离校", f"{year}届研究生离校"]


def is_loaded() -> bool:
    year = graduating_year(timezone.localdate())
    return (
        User.objects.filter(username="admin").exists()
        or Batch.objects.filter(name__in=batch_names(year)).exists()
    )


def build(students: int = DEFAULT_STUDENTS) -> Summary:
    """Everything or nothing: a failure part-way leaves the database as it was."""
    if students < MIN_STUDENTS:
        raise DemoConflict(f"学生人数至少为 {MIN_STUDENTS}")
    clashing = Category.objects.filter(name__in=[cat.UNDERGRADUATE, cat.GRADUATE]).values_list(
        "name", flat=True
    )
    if clashing:
        raise DemoConflict(f"数据库中已有离校类别“{'、'.join(clashing)}”：演示数据需要一个空数据库")
    now = timezone.now()
    year = graduating_year(timezone.localdate())
    opens = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=WINDOW_OPENED_DAYS_AGO), time(8))
    )
    # The password is public (README), so one Argon2 hash serves every demo account:
    # twenty-odd separate hashes would cost ~10 s of a seed meant to take seconds.
    hashed = make_password(DEMO_PASSWORD)
    with transaction.atomic():
        colleges = {
            c.code: College.objects.get_or_create(code=c.code, defaults={"name": c.name})[0]
            for c in cat.COLLEGES
        }
        departments = {
            d.code: Department.objects.get_or_create(
                code=d.code, defaults={"name": d.name, "contact": d.contact}
            )[0]
            for d in cat.DEPARTMENTS
        }
        sources = {
            code: IntegrationSource.objects.get_or_create(
                code=code, defaults={"name": name, "department": departments[dept]}
            )[0]
            for code, name, dept in cat.SOURCES
        }
        for code, source in sources.items():
            set_token(source, DEMO_TOKENS[code])  # README cites them; real tokens come from 轮换
        categories = {
            cat.UNDERGRADUATE: _category(
                cat.UNDERGRADUATE, CompletionRule.ALL, True, departments, sources
            ),
            cat.GRADUATE: _category(
                cat.GRADUATE, CompletionRule.REQUIRED, False, departments, sources
            ),
        }
        batches = _batches(year, categories, opens, now)
        users = _staff(departments, colleges, hashed)
        _grants(batches, users, colleges, opens)
        people = _students(students, year, colleges, hashed)
        counselors = {s.college: users[s.username] for s in cat.STAFF if s.college}
        handlers = {
            title: users[s.username] for s in cat.STAFF if s.department for title in s.steps
        }
        for index, (category, batch) in enumerate(batches.items()):
            stype = (
                StudentType.UNDERGRADUATE if category == cat.UNDERGRADUATE else StudentType.MASTER
            )
            roster = [p for p in people if p.row.student_type == stype]
            _enrol(batch, roster, counselors, users["admin"], opens - timedelta(hours=17))
            replay = Replay(batch, Cast(handlers, counselors), random.Random(SEED + index), now)
            replay.plan(forms_of(batch), OVERRIDES, cat.PASS_RATES)
            replay.apply()
        # 预约办理 at the counters students queue at: the dormitory and the archives.
        demo_appointments.create(
            list(batches.values()),
            users["admin"],
            {title: handlers[title] for title in demo_appointments.PLANS},
            random.Random(SEED + 99),
        )
        _source_rows(sources, now)
    return summary()


def summary() -> Summary:
    year = graduating_year(timezone.localdate())
    rows = []
    for batch in Batch.objects.filter(name__in=batch_names(year)).order_by("id"):
        forms = Form.objects.filter(batch=batch)
        rows.append((batch.name, forms.count(), forms.filter(completed_at__isnull=False).count()))
    return Summary(
        College.objects.count(), Student.objects.count(), rows, ACCOUNTS, Booking.objects.count()
    )


def _category(name, rule, survey, departments, sources) -> Category:
    category = Category.objects.create(name=name, completion_rule=rule, survey_enabled=survey)
    if survey:
        # A survey switched on with no questions is never shown to anybody.
        demo_survey.create(category)
    Step.objects.bulk_create(
        [
            Step(
                category=category,
                title=spec.title,
                order=order,
                owner_type=OwnerType.COLLEGE if spec.department is None else OwnerType.DEPARTMENT,
                department=departments[spec.department] if spec.department else None,
                required=spec.required,
                automatic=spec.source is not None,
                source=sources[spec.source] if spec.source else None,
                is_final=spec.is_final,
                condition=spec.condition,
                instructions=spec.instructions,
                contact=spec.contact or departments[spec.department].contact,
                deadline=(
                    None
                    if spec.deadline_days is None
                    else timezone.localdate() + timedelta(days=spec.deadline_days)
                ),
            )
            for order, spec in enumerate(cat.CATEGORY_STEPS[name], start=1)
        ]
    )
    return category


def _batches(year, categories, opens, now) -> dict[str, Batch]:
    # Departure happens before mid-July; never let the demo window be about to close.
    closes = max(
        timezone.make_aware(datetime.combine(date(year, 7, 15), time(18))), now + timedelta(days=60)
    )
    texts = {
        cat.UNDERGRADUATE: (StudentType.UNDERGRADUATE, "本科毕业生"),
        cat.GRADUATE: (StudentType.MASTER, "硕士研究生毕业生"),
    }
    batches = {}
    for (category, (stype, who)), name in zip(texts.items(), batch_names(year), strict=True):
        batches[category] = Batch.objects.create(
            name=name,
            academic_year=f"{year - 1}-{year}",
            student_type=stype,
            category=categories[category],
            opens_at=opens,
            closes_at=closes,
            enabled=True,
            created_at=opens - timedelta(days=3),
            description=(
                f"{year} 届{who}离校手续办理。请在服务时间内按离校单逐项办理；图书馆、财务处为自动办理环节，"
                "归还图书、缴清费用后次日同步。全部办结后可打印离校证明，凭证明领取毕业证书和学位证书。"
            ),
        )
    return batches


def _staff(departments, colleges, hashed: str) -> dict[str, User]:
    User.objects.bulk_create(
        [
            User(
                username=s.username,
                name=s.name,
                is_office=s.is_office,
                password=hashed,
                uses_initial_password=False,
            )
            for s in cat.STAFF
        ]
    )
    users = {
        u.username: u for u in User.objects.filter(username__in=[s.username for s in cat.STAFF])
    }
    Staff.objects.bulk_create(
        [
            Staff(
                user=users[s.username],
                staff_number=s.username,
                name=s.name,
                department=departments.get(s.department),
                college=colleges.get(s.college),
                phone=f"6677-{2001 + i}",
            )
            for i, s in enumerate(cat.STAFF)
        ]
    )
    return users


def _grants(batches, users, colleges, opens) -> None:
    grants = []
    for batch in batches.values():
        steps = {s.title: s for s in Step.objects.filter(category_id=batch.category_id)}
        for spec in cat.STAFF:
            for title in spec.steps:
                if title not in steps:
                    continue  # e.g. 学位论文归档 exists for graduates only
                college = colleges[spec.college] if spec.college else None
                grants.append(
                    Grant(
                        batch=batch,
                        step=steps[title],
                        user=users[spec.username],
                        scope=Scope.COLLEGE if college else Scope.SCHOOL,
                        college=college,
                        is_lead=spec.is_lead,
                        created_by=users["admin"],
                        created_at=opens - timedelta(days=2),
                    )
                )
    Grant.objects.bulk_create(grants)


def _students(total: int, year: int, colleges, hashed: str) -> list[Person]:
    generator = Generator({code: c.id for code, c in colleges.items()}, year)
    demo = generator.demo_students()
    undergraduates = round(total * 2 / 3)
    demo_undergraduates = sum(p.row.student_type == StudentType.UNDERGRADUATE for p in demo)
    people = [
        *demo,
        *generator.students(undergraduates - demo_undergraduates, StudentType.UNDERGRADUATE),
        *generator.students(
            total - undergraduates - (len(demo) - demo_undergraduates), StudentType.MASTER
        ),
    ]
    upsert_students([p.row for p in people])
    # Walk-through students log in with the demo password; 2022000004 keeps the initial one.
    walk_through = [
        p.row.student_number for p in demo if p.row.student_number != INITIAL_STUDENT_NUMBER
    ]
    User.objects.filter(username__in=walk_through).update(
        password=hashed, uses_initial_password=False
    )
    return people


def _enrol(batch, roster: list[Person], counselors, admin, at) -> None:
    ids = dict(
        Student.objects.filter(
            student_number__in=[p.row.student_number for p in roster]
        ).values_list("student_number", "id")
    )
    entries = [
        services.Enrolment(
            student_id=ids[p.row.student_number],
            college_id=p.row.college_id,
            counselor_id=counselors[p.college].id if p.college in counselors else None,
            attributes=p.row.attributes(p.college),
        )
        for p in roster
    ]
    services.enrol(services.Actor.system(Source.ROSTER, user=admin), batch, entries, at=at)


_AMOUNT = re.compile(r"([\d,]+\.\d{2}) 元")


def _source_rows(sources, now) -> None:
    """What each source holds now, consistent with the automatic steps the syncs left behind."""
    synced = min(now, timezone.make_aware(datetime.combine(timezone.localdate(), time(2, 5))))
    rows = []
    for source in sources.values():
        records = Record.objects.filter(step__source=source).exclude(state=State.NOT_REQUIRED)
        for number, state, reason in records.values_list(
            "form__student__student_number", "state", "reason"
        ):
            owing = state == State.PENDING
            amount = _AMOUNT.search(reason) if owing and source.code == "finance" else None
            rows.append(
                SourceRow(
                    source=source,
                    student_number=number,
                    cleared=not owing,
                    reason=reason if owing else "",
                    amount=Decimal(amount.group(1).replace(",", "")) if amount else None,
                    updated_at=synced,
                )
            )
    SourceRow.objects.bulk_create(rows, batch_size=2000)
