"""The synthetic university the benchmark seeds: places, one 12-step category, a batch, a roster."""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from lixiao.clearance.models import Batch, Category, Grant, OwnerType, Scope, Step
from lixiao.directory import idnumbers
from lixiao.directory.models import College, Department, Staff, User
from lixiao.directory.services import StudentRow
from lixiao.integrations.models import IntegrationSource

COLLEGES = 20
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建文辉力"
REGIONS = ("110101", "310104", "440305", "500101", "510107", "330106", "420111", "610113")
MAJORS = ("计算机科学与技术", "汉语言文学", "数学与应用数学", "机械工程", "临床医学", "法学")
PARTY = {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}
# One in five a party member, as many 共青团员 as 群众 (GB/T 4762 names).
POLITICAL_MIX = ("中共党员", "中共预备党员", *("共青团员",) * 3, *("群众",) * 3, "共青团员", "群众")

# (title, department code or None for a college step, extras): 10 department steps, 2 college.
STEPS = [
    ("图书馆", "LIB", {"automatic": True, "source": "library"}),
    ("财务处", "FIN", {"automatic": True, "source": "finance"}),
    ("学生公寓", "DORM", {}),
    ("保卫处", "SEC", {}),
    ("档案馆", "ARCH", {}),
    ("校医院", "MED", {}),
    ("后勤集团", "LOG", {}),
    ("学生资助中心", "AID", {}),
    ("就业指导中心", "JOB", {}),
    ("校友会登记", "ALUM", {"required": False}),
    ("组织关系转移", None, {"condition": [PARTY]}),
    ("院系离校", None, {"is_final": True}),
]
BULK_STEP = "学生公寓"  # the step the bulk pass works on (required, not automatic, not final)


@dataclass
class World:
    batch: Batch
    steps: list[Step]
    colleges: list[College]
    office: User
    handler: User  # school-wide grant on BULK_STEP
    counselor: User  # college grant on the college steps of colleges[0]


def build() -> World:
    """Places, category, batch and the three personas; identical ids in every fresh database."""
    colleges = [
        College.objects.create(code=f"C{i:02d}", name=f"第{i + 1}学院") for i in range(COLLEGES)
    ]
    departments = {}
    for _title, code, _extra in STEPS:
        if code:
            departments[code] = Department.objects.create(code=code, name=f"部门{code}")
    sources = {
        "library": IntegrationSource.objects.create(code="library", name="集成表2 图书馆"),
        "finance": IntegrationSource.objects.create(code="finance", name="集成表1 财务处"),
    }
    category = Category.objects.create(name="本科生离校", completion_rule="required")
    steps = []
    for order, (title, code, extra) in enumerate(STEPS, start=1):
        extra = dict(extra)
        if "source" in extra:
            extra["source"] = sources[extra["source"]]
        steps.append(
            Step.objects.create(
                category=category,
                title=title,
                order=order,
                owner_type=OwnerType.DEPARTMENT if code else OwnerType.COLLEGE,
                department=departments.get(code),
                instructions=f"请到{title}办理",
                **extra,
            )
        )
    now = timezone.now()
    batch = Batch.objects.create(
        name="2026届本科生离校",
        academic_year="2025-2026",
        student_type="本科生",
        category=category,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=60),
    )
    office = _staff("A0001", "离校办", is_office=True)
    handler = _staff("D0001", "公寓老师")
    counselor = _staff("T0001", "辅导员", college=colleges[0])
    by_title = {s.title: s for s in steps}
    Grant.objects.create(batch=batch, step=by_title[BULK_STEP], user=handler, scope=Scope.SCHOOL)
    for title in ("组织关系转移", "院系离校"):
        Grant.objects.create(
            batch=batch,
            step=by_title[title],
            user=counselor,
            scope=Scope.COLLEGE,
            college=colleges[0],
        )
    return World(batch, steps, colleges, office, handler, counselor)


def _staff(number: str, name: str, college=None, **extra) -> User:
    user = User.objects.create_user(number, name=name, **extra)
    Staff.objects.create(user=user, staff_number=number, name=name, college=college)
    return user


def roster(n: int, colleges: list[College], seed: int = 2026) -> list[StudentRow]:
    """n students: 学号 2023xxxxxx, Chinese names, valid ID numbers, ~1 in 5 party members."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        birth = f"{2000 + i % 4}{1 + i % 12:02d}{1 + i % 28:02d}"
        first17 = f"{REGIONS[i % len(REGIONS)]}{birth}{i % 1000:03d}"
        college = colleges[i % len(colleges)]
        rows.append(
            StudentRow(
                student_number=f"2023{i:06d}",
                name=name,
                id_number=first17 + idnumbers.check_digit(first17),
                college_id=college.id,
                student_type="本科生",
                gender="男女"[i % 2],
                major=MAJORS[i % len(MAJORS)],
                class_name=f"2023级{i % 30 + 1}班",
                political_status=rng.choice(POLITICAL_MIX),
                dormitory=f"{i % 40 + 1}栋{i % 600 + 100}",
            )
        )
    return rows
