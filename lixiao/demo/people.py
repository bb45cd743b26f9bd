"""Synthetic graduates: Faker zh_CN names, valid ID numbers, majors, classes, dormitories, phones."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

from lixiao.demo import INITIAL_ID_NUMBER, INITIAL_STUDENT_NUMBER
from lixiao.demo.catalogue import (
    AREA_CODES,
    COLLEGES,
    GRADUATE_HALLS,
    POLITICAL_MIX,
    UNDERGRAD_HALLS,
    CollegeSpec,
)
from lixiao.directory.idnumbers import check_digit
from lixiao.directory.models import StudentType
from lixiao.directory.services import StudentRow

SEED = 2027


@dataclass(frozen=True)
class Person:
    """A generated student and their college code (StudentRow carries the college's id)."""

    college: str
    row: StudentRow


def id_number(rng: random.Random, born: date, male: bool, taken: set[str]) -> str:
    """A synthetic resident ID: real area code, birth date, sequence whose last digit gives the gender."""
    while True:
        area = rng.choice(AREA_CODES)
        sequence = rng.randrange(0, 100) * 10 + rng.choice(
            (1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8)
        )
        first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
        value = first17 + check_digit(first17)
        if value not in taken:
            taken.add(value)
            return value


def _birth(rng: random.Random, first_year: int, years: int) -> date:
    return date(first_year, 1, 1) + timedelta(days=rng.randrange(365 * years))


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


class Generator:
    """Repeatable: the same seed and sizes give the same people."""

    def __init__(self, college_ids: dict[str, int], graduating_year: int, seed: int = SEED):
        Faker.seed(seed)
        self.fake = Faker("zh_CN")
        self.rng = random.Random(seed)
        self.college_ids = college_ids
        self.year = graduating_year
        self.taken_ids = {INITIAL_ID_NUMBER}

    def students(self, count: int, student_type: str) -> list[Person]:
        undergraduate = student_type == StudentType.UNDERGRADUATE
        entry_year = self.year - (4 if undergraduate else 3)
        colleges = self.rng.choices(COLLEGES, weights=[c.weight for c in COLLEGES], k=count)
        sequence: dict[str, int] = {}
        people = []
        for college in sorted(colleges, key=COLLEGES.index):
            index = COLLEGES.index(college) + 1
            sequence[college.code] = sequence.get(college.code, 0) + 1
            # e.g. 2023010001: entry year, college, serial; graduates 2024… — never 2022000001-4.
            number = f"{entry_year}{index:02d}{sequence[college.code]:04d}"
            people.append(self._person(number, college, student_type, entry_year, undergraduate))
        return people

    def _person(
        self,
        number: str,
        college: CollegeSpec,
        student_type: str,
        entry_year: int,
        undergraduate: bool,
    ) -> Person:
        rng = self.rng
        male = rng.random() < college.male_share
        # zh_CN's name_male() draws from all given names; the gendered lists are the first_name_* ones.
        name = self.fake.last_name() + (
            self.fake.first_name_male() if male else self.fake.first_name_female()
        )
        born = _birth(rng, entry_year - (19 if undergraduate else 23), 2)
        major, short = rng.choice(college.majors)
        if undergraduate:
            class_name = f"{short}{entry_year % 100}{rng.randint(1, 3):02d}班"
            hall = rng.choice(UNDERGRAD_HALLS)
        else:
            class_name = f"{entry_year}级{major}硕士班"
            hall = rng.choice(GRADUATE_HALLS)
        dormitory = f"{hall}{rng.randint(1, 12)}幢{rng.randint(1, 6)}{rng.randint(1, 30):02d}"
        row = StudentRow(
            student_number=number,
            name=name,
            id_number=id_number(rng, born, male, self.taken_ids),
            college_id=self.college_ids[college.code],
            student_type=student_type,
            gender="男" if male else "女",
            major=major,
            class_name=class_name,
            political_status=_pick(rng, POLITICAL_MIX[student_type]),
            dormitory=dormitory,
            phone=self.fake.phone_number(),
        )
        return Person(college.code, row)

    def demo_students(self) -> list[Person]:
        """The four students README's walk-through logs in as (fixed, whatever the seed)."""
        fixed = [
            # number, name, college, type, political, male, birth, major, class, dormitory
            (
                "2022000001",
                "陈思远",
                "CS",
                StudentType.UNDERGRADUATE,
                "中共党员",
                True,
                date(2004, 3, 15),
                "计算机科学与技术",
                "计科2201班",
                "桃李苑3幢512",
                "13805710001",
            ),
            (
                "2022000002",
                "林晓雯",
                "CS",
                StudentType.UNDERGRADUATE,
                "共青团员",
                False,
                date(2004, 8, 2),
                "软件工程",
                "软工2202班",
                "丹桂苑5幢318",
                "13805710002",
            ),
            (
                "2022000003",
                "王子涵",
                "LIT",
                StudentType.MASTER,
                "中共预备党员",
                True,
                date(2000, 11, 20),
                "汉语言文学",
                "2022级汉语言文学硕士班",
                "研究生公寓2幢406",
                "13805710003",
            ),
        ]
        people = []
        for (
            number,
            name,
            code,
            stype,
            political,
            male,
            born,
            major,
            class_name,
            dorm,
            phone,
        ) in fixed:
            first17 = f"330106{born:%Y%m%d}{int(number[-1]) * 10 + (1 if male else 2):03d}"
            people.append(
                Person(
                    code,
                    StudentRow(
                        student_number=number,
                        name=name,
                        id_number=first17 + check_digit(first17),
                        college_id=self.college_ids[code],
                        student_type=stype,
                        gender="男" if male else "女",
                        major=major,
                        class_name=class_name,
                        political_status=political,
                        dormitory=dorm,
                        phone=phone,
                    ),
                )
            )
        people.append(
            Person(
                "ECON",
                StudentRow(
                    student_number=INITIAL_STUDENT_NUMBER,
                    name="赵一鸣",
                    id_number=INITIAL_ID_NUMBER,
                    college_id=self.college_ids["ECON"],
                    student_type=StudentType.UNDERGRADUATE,
                    gender="男",
                    major="金融学",
                    class_name="金融2201班",
                    political_status="共青团员",
                    dormitory="紫荆苑7幢221",
                    phone="13805710004",
                ),
            )
        )
        return people
