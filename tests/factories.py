"""Builders for a small university used by every test (fixed personas in conftest.py)."""

from datetime import timedelta

from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Category, Form, Grant, OwnerType, Record, State, Step
from lixiao.directory import idnumbers
from lixiao.directory.models import College, Department, Staff, Student, User
from lixiao.integrations.models import IntegrationSource

PASSWORD = "Lixiao-Test-2026!"
PARTY = {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}


def id_number(seed: int) -> str:
    first17 = f"500101{2000 + seed % 5:04d}0{1 + seed % 9}1{seed % 10}{seed % 1000:03d}"[:17]
    return first17 + idnumbers.check_digit(first17)


def staff(
    username: str, name: str, college=None, department=None, password=PASSWORD, **extra
) -> User:
    user = User.objects.create_user(username, password=password, name=name, **extra)
    Staff.objects.create(
        user=user, staff_number=username, name=name, college=college, department=department
    )
    return user


def student(
    number: str,
    name: str,
    college: College,
    political="群众",
    student_type="本科生",
    password=PASSWORD,
    seed: int = 0,
) -> Student:
    user = User.objects.create_user(number, password=password, name=name)
    s = Student(
        user=user,
        student_number=number,
        name=name,
        college=college,
        student_type=student_type,
        political_status=political,
        major="计算机科学与技术",
        class_name="2022级1班",
        gender="男",
    )
    s.set_id_number(id_number(seed or int(number[-4:])))
    s.save()
    return s


def category(name="本科生离校", rule="all") -> Category:
    cat = Category.objects.create(name=name, completion_rule=rule)
    library = Department.objects.get_or_create(
        code="LIB", name="图书馆", defaults={"contact": "图书馆一楼 023-0001"}
    )[0]
    finance = Department.objects.get_or_create(
        code="FIN", name="财务处", defaults={"contact": "行政楼 023-0002"}
    )[0]
    dorm = Department.objects.get_or_create(
        code="DORM", name="学生公寓", defaults={"contact": "公寓中心"}
    )[0]
    src_fin = IntegrationSource.objects.get_or_create(
        code="finance", defaults={"name": "集成表1 财务处", "department": finance}
    )[0]
    src_lib = IntegrationSource.objects.get_or_create(
        code="library", defaults={"name": "集成表2 图书馆", "department": library}
    )[0]
    Step.objects.create(
        category=cat,
        title="图书馆",
        owner_type=OwnerType.DEPARTMENT,
        department=library,
        automatic=True,
        source=src_lib,
        order=1,
        instructions="归还所有图书",
    )
    Step.objects.create(
        category=cat,
        title="财务处",
        owner_type=OwnerType.DEPARTMENT,
        department=finance,
        automatic=True,
        source=src_fin,
        order=2,
        instructions="结清学费",
    )
    Step.objects.create(
        category=cat,
        title="学生公寓",
        owner_type=OwnerType.DEPARTMENT,
        department=dorm,
        order=3,
        instructions="交还宿舍钥匙",
    )
    Step.objects.create(
        category=cat,
        title="校友会登记",
        owner_type=OwnerType.DEPARTMENT,
        department=dorm,
        required=False,
        order=4,
    )
    Step.objects.create(
        category=cat, title="组织关系转移", owner_type=OwnerType.COLLEGE, condition=[PARTY], order=5
    )
    Step.objects.create(
        category=cat, title="院系离校", owner_type=OwnerType.COLLEGE, is_final=True, order=6
    )
    return cat


def batch(cat: Category, name="2026届本科生离校", **extra) -> Batch:
    now = timezone.now()
    defaults = {
        "academic_year": "2025-2026",
        "student_type": "本科生",
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "enabled": True,
    }
    defaults.update(extra)
    return Batch.objects.create(name=name, category=cat, **defaults)


def enrol(b: Batch, students, counselor=None) -> None:
    entries = [
        services.Enrolment(
            s.id,
            s.college_id,
            counselor.id if counselor else None,
            {
                "political_status": s.political_status,
                "student_type": s.student_type,
                "college": s.college.code,
                "major": s.major,
                "gender": s.gender,
                "dormitory": s.dormitory,
            },
        )
        for s in students
    ]
    services.enrol(services.Actor.system("roster"), b, entries)


def grant(b: Batch, step_title: str, user: User, scope="school", college=None) -> Grant:
    step = Step.objects.get(category=b.category, title=step_title)
    return Grant.objects.create(batch=b, step=step, user=user, scope=scope, college=college)


def enrolled(b: Batch, number: str, name: str, college: College, counselor=None, **student_extra):
    """A new student on the batch's roster; returns their form."""
    s = student(number, name, college, **student_extra)
    enrol(b, [s], counselor=counselor)
    return Form.objects.get(batch=b, student=s)


def pass_prerequisites(form, by: User) -> None:
    """Pass every applicable step but the final one, through the writer, as `by` (the office)."""
    actor = services.Actor(user=by, source="admin")
    for rec in Record.objects.filter(form=form, step__is_final=False, state=State.PENDING):
        services.pass_record(actor, rec.id)


def broken_forms(b: Batch) -> list[str]:
    """Forms of the batch that break Rule 2's invariant or whose completion time disagrees with Rule 3."""
    from lixiao.clearance import rules

    steps = [
        rules.StepInfo(s.id, s.title, s.required, s.is_final)
        for s in Step.objects.filter(category_id=b.category_id)
    ]
    final = rules.final_step(steps)
    states: dict[int, dict[int, str]] = {}
    for form_id, step_id, state in Record.objects.filter(form__batch=b).values_list(
        "form_id", "step_id", "state"
    ):
        states.setdefault(form_id, {})[step_id] = state
    problems = []
    for form_id, completed_at in Form.objects.filter(batch=b).values_list("id", "completed_at"):
        form_states = states[form_id]
        pending_required = [
            s.title
            for s in steps
            if s.required and not s.is_final and form_states[s.id] == State.PENDING
        ]
        if final and form_states[final.id] == State.PASSED and pending_required:
            problems.append(f"form {form_id}: final passed while {pending_required} pending")
        if rules.is_complete(b.category.completion_rule, steps, form_states) != (
            completed_at is not None
        ):
            problems.append(f"form {form_id}: completed_at={completed_at} but states {form_states}")
    return problems
