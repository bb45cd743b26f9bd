"""The roster importer: a batch's students, accounts, forms and records from the template."""

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lixiao import sqlbulk
from lixiao.clearance import services
from lixiao.clearance.models import Batch, Form, Source
from lixiao.console.importers.common import (
    EXAMPLE_ID,
    MAX_WARNINGS,
    PlaceIndex,
    parse_gender,
    parse_id_number,
    parse_political_status,
    parse_student_type,
    progress,
    staff_by_number,
    usernames_taken,
)
from lixiao.directory import codes, idnumbers
from lixiao.directory.models import (
    College,
    Student,
)
from lixiao.directory.services import (
    STUDENT_FIELDS,
    StaffEntry,
    StudentRow,
    create_colleges,
    create_staff,
    upsert_students,
)
from lixiao.tabular import jobs
from lixiao.tabular.reader import TableError
from lixiao.tabular.schema import Column, RowError

# ---------------------------------------------------------------------------------------------
# roster


ROSTER_COLUMNS = [
    Column("student_number", "学号", required=True, example="2022000001"),
    Column("name", "姓名", required=True, example="陈小明"),
    Column(
        "id_number",
        "身份证件号",
        required=True,
        parse=parse_id_number,
        example=EXAMPLE_ID,
        help=gettext_noop("18 位居民身份证号；最后 6 位是初始密码"),
    ),
    Column(
        "gender",
        "性别",
        parse=parse_gender,
        example="男",
        help=gettext_noop("男、女，或 GB/T 2261.1 代码 1（男）、2（女）"),
    ),
    Column(
        "college",
        "院系",
        required=True,
        example="计算机与信息科学学院",
        help=gettext_noop("院系名称或院系代码"),
    ),
    Column("major", "专业", example="计算机科学与技术"),
    Column("class_name", "班级", example="2022级1班"),
    Column(
        "student_type",
        "学生类别",
        required=True,
        parse=parse_student_type,
        example="本科生",
        help="本科生 / 硕士研究生 / 博士研究生",
    ),
    Column(
        "political_status",
        "政治面貌",
        parse=parse_political_status,
        example="共青团员",
        help=gettext_noop("GB/T 4762 名称或代码，如 中共党员 或 01；全部取值见模板的“说明”工作表"),
    ),
    Column("dormitory", "宿舍", example="桃园3栋201"),
    Column("phone", "联系电话", example="13800000000"),
    Column(
        "counselor_number",
        "辅导员工号",
        example="T1001",
        help=gettext_noop("“我的学生”授权据此找到学生"),
    ),
    Column(
        "counselor_name",
        "辅导员姓名",
        example="张老师",
        help=gettext_noop("工号不存在时据此创建辅导员账号"),
    ),
]
# The help texts above are also the template workbook's cell comments, so they stay Chinese
# (gettext_noop only marks them); the roster page shows them translated. The student-type help
# lists the values a file must contain and is not translated.
ROSTER_NOTES = [
    "院系可填写名称或代码；名单中出现系统里没有的院系或辅导员时，预览页可勾选一并创建。",
    "同一学号在文件中只能出现一次；已在本批次名单中的学生只更新其信息，不新建离校单。",
    "新学生的账号初始密码为身份证件号后 6 位（末位 x 写作大写 X），首次登录须修改。",
    "政治面貌按 GB/T 4762，可填名称、全称（如“中国共产党党员”）或两位代码，系统保存并显示名称："
    + "、".join(f"{code} {name}" for code, name, _full in codes.POLITICAL_STATUS_CODES)
    + "。",
    "政治面貌也接受常见写法：" + "、".join(codes.POLITICAL_VARIANTS) + "。"
    "“民主党派”“党员”不能确定是哪一项，请填写具体名称或代码。",
    "性别按 GB/T 2261.1，可填 男、女（或 男性、女性）或代码 1（男）、2（女）；"
    "0（未知的性别）、9（未说明的性别）按未填写保存。",
]


@dataclass
class RosterRow:
    row: int
    student: StudentRow
    college_name: str  # for a college created by this import (college_id is then 0)
    counselor_number: str
    counselor_name: str
    existing_id: int | None
    already_enrolled: bool


def _existing_students(numbers: list[str]) -> dict[str, tuple]:
    found = {}
    fields = ("student_number", "id", "user_id", "id_number_hash", *STUDENT_FIELDS)
    for part in sqlbulk.chunks(numbers):
        for values in Student.objects.filter(student_number__in=part).values_list(*fields):
            found[values[0]] = dict(zip(fields, values, strict=True))
    return found


def _forms_of(student_ids: list[int]) -> dict[int, set[int]]:
    """Student id → batch ids of their forms."""
    batches: dict[int, set[int]] = defaultdict(set)
    for part in sqlbulk.chunks(student_ids):
        for sid, bid in Form.objects.filter(student_id__in=part).values_list(
            "student_id", "batch_id"
        ):
            batches[sid].add(bid)
    return batches


@jobs.register
class RosterImporter(jobs.Importer):
    """A batch's roster: students and accounts created or updated, forms and records created."""

    kind = "console.roster"
    columns = ROSTER_COLUMNS

    def check(self, validated) -> jobs.Plan:
        progress(self.job, 20)
        batch = Batch.objects.select_related("category").get(pk=self.context["batch"])
        try:
            services.require_writable(batch)  # an archived batch's roster is closed for good
        except services.Refused as refusal:
            raise TableError(str(refusal)) from None
        create_colleges_ok = bool(self.context.get("create_colleges"))
        create_counselors_ok = bool(self.context.get("create_counselors"))
        colleges = PlaceIndex(College)
        numbers = [v["student_number"] for _row, v in validated.rows]
        existing = _existing_students(numbers)
        forms_of = _forms_of([s["id"] for s in existing.values()])
        counselor_numbers = [
            v["counselor_number"] for _row, v in validated.rows if v["counselor_number"]
        ]
        staff = staff_by_number(counselor_numbers)
        taken = usernames_taken([*counselor_numbers, *(n for n in numbers if n not in existing)])

        # New counselors by number with the first name the file gives them (any row may name one).
        named: dict[str, str] = {}
        for _row, v in validated.rows:
            if v["counselor_number"] and v["counselor_name"]:
                named.setdefault(v["counselor_number"], v["counselor_name"])
        errors: list[RowError] = []
        # Unknown colleges and counselors can be created by a tick on the preview instead of
        # a new file: the values, and the rows that only need such a tick, are kept here.
        unknown_colleges: set[str] = set()
        unknown_counselors: set[str] = set()
        offerable_rows: set[int] = set()
        warnings: list[dict] = []
        first_row: dict[str, int] = {}
        new_colleges: dict[str, None] = {}
        new_counselors: dict[str, str] = {}
        rows: list[RosterRow] = []
        counts = defaultdict(int)
        for row, v in validated.rows:
            number = v["student_number"]
            bad = len(errors)
            if number in first_row:
                errors.append(
                    RowError(
                        row,
                        "学号",
                        _("学号在文件中重复（与第 %(row)s 行）") % {"row": first_row[number]},
                        number,
                    )
                )
            else:
                first_row[number] = row
            current = existing.get(number)
            if current is None and number in taken:
                errors.append(RowError(row, "学号", _("该学号已被教职工账号使用"), number))
            college = colleges.find(v["college"])
            if college is None:
                if create_colleges_ok:
                    new_colleges[v["college"]] = None
                else:
                    errors.append(
                        RowError(row, "院系", _("院系不存在（可在预览页勾选创建）"), v["college"])
                    )
                    unknown_colleges.add(v["college"])
                    offerable_rows.add(row)
            counselor_number, counselor_name = v["counselor_number"], v["counselor_name"]
            if counselor_number and counselor_number not in staff:
                if counselor_number in taken:
                    errors.append(
                        RowError(
                            row,
                            "辅导员工号",
                            _("该工号已被学生账号使用，不是教职工"),
                            counselor_number,
                        )
                    )
                elif counselor_number not in named:
                    # No row of the file names this counselor: the tick could not create the
                    # account, so it is not offered; the file needs the name.
                    errors.append(
                        RowError(
                            row,
                            "辅导员工号",
                            _("辅导员工号不存在；请填写辅导员姓名以便创建"),
                            counselor_number,
                        )
                    )
                elif create_counselors_ok:
                    new_counselors.setdefault(counselor_number, named[counselor_number])
                else:
                    errors.append(
                        RowError(
                            row,
                            "辅导员工号",
                            _("辅导员工号不存在（可在预览页勾选创建）"),
                            counselor_number,
                        )
                    )
                    unknown_counselors.add(counselor_number)
                    offerable_rows.add(row)
            enrolled = bool(current and batch.id in forms_of.get(current["id"], ()))
            if (
                current
                and college
                and current["college_id"] != college.id
                and forms_of.get(current["id"])
            ):
                # Forms copy the college for scope and tallies; moving it is not a roster edit.
                errors.append(
                    RowError(
                        row,
                        "院系",
                        _("该学生已有离校单，不能通过名单导入更改院系"),
                        v["college"],
                    )
                )
            if len(errors) > bad:
                continue
            if batch.student_type and v["student_type"] != batch.student_type:
                counts["type_mismatch"] += 1
                warnings.append(
                    {
                        "row": row,
                        "column": "学生类别",
                        "value": v["student_type"],
                        "message": _("与批次的学生类别“%(type)s”不同")
                        % {"type": batch.student_type},
                    }
                )
            if enrolled:
                warnings.append(
                    {
                        "row": row,
                        "column": "学号",
                        "value": number,
                        "message": _("已在本批次名单中：只更新学生信息，不新建离校单"),
                    }
                )
            student = StudentRow(
                student_number=number,
                name=v["name"],
                id_number=v["id_number"],
                college_id=college.id if college else 0,
                student_type=v["student_type"],
                gender=v["gender"] or "",
                major=v["major"],
                class_name=v["class_name"],
                political_status=v["political_status"] or "",
                dormitory=v["dormitory"],
                phone=v["phone"],
            )
            if current is None:
                counts["new_students"] += 1
            elif _differs(current, student):
                counts["updated_students"] += 1
            else:
                counts["unchanged_students"] += 1
            counts["already_enrolled" if enrolled else "new_forms"] += 1
            rows.append(
                RosterRow(
                    row,
                    student,
                    "" if college else v["college"],
                    counselor_number,
                    counselor_name,
                    current["id"] if current else None,
                    enrolled,
                )
            )
        plan_counts = {
            key: counts[key]
            for key in (
                "new_students",
                "updated_students",
                "unchanged_students",
                "new_forms",
                "already_enrolled",
                "type_mismatch",
            )
        }
        plan_counts["new_colleges"] = list(new_colleges)
        plan_counts["new_counselors"] = [[k, v] for k, v in new_counselors.items()]
        plan_counts["unknown_colleges"] = sorted(unknown_colleges)
        plan_counts["unknown_counselors"] = sorted(unknown_counselors)
        plan_counts["offerable_rows"] = len(offerable_rows)
        plan_counts["warnings"] = warnings[:MAX_WARNINGS]
        plan_counts["warning_count"] = len(warnings)
        progress(self.job, 40)
        return jobs.Plan(counts=plan_counts, errors=errors, rows=rows)

    def apply(self, plan: jobs.Plan) -> dict:
        if plan.errors:
            raise TableError(
                _("文件中仍有 %(n)s 处错误，名单未导入。请修改后重新上传。")
                % {"n": len(plan.errors)}
            )
        batch = Batch.objects.select_related("category").get(pk=self.context["batch"])
        user = self.job.created_by
        actor = services.Actor(
            user=user, source=Source.ROSTER, client_ip=self.context.get("client_ip"), trusted=True
        )
        rows: list[RosterRow] = plan.rows
        made = create_colleges(plan.counts["new_colleges"]) if plan.counts["new_colleges"] else {}
        students = []
        for r in rows:
            s = r.student
            if r.college_name:
                s = dataclasses.replace(s, college_id=made[r.college_name].id)
            students.append(s)
        counselor_ids = {
            n: uid for n, (uid, _sid) in staff_by_number([r.counselor_number for r in rows]).items()
        }
        if plan.counts["new_counselors"]:
            college_of = {
                r.counselor_number: s.college_id for r, s in zip(rows, students, strict=True)
            }
            counselor_ids.update(
                create_staff(
                    [
                        StaffEntry(number, name, college_id=college_of.get(number))
                        for number, name in plan.counts["new_counselors"]
                    ]
                )
            )
        upserted = upsert_students(students)
        codes = dict(College.objects.values_list("id", "code"))
        entries, moved = [], defaultdict(list)
        for r, s in zip(rows, students, strict=True):
            counselor = counselor_ids.get(r.counselor_number) if r.counselor_number else None
            student_id = upserted.ids[s.student_number]
            if r.already_enrolled:
                if r.counselor_number:
                    moved[counselor].append(student_id)
                continue
            entries.append(
                services.Enrolment(
                    student_id, s.college_id, counselor, s.attributes(codes[s.college_id])
                )
            )
        try:
            if entries:
                services.enrol(actor, batch, entries)
            # Who reaches a student under a "my students" grant: each move is audited per form.
            reassigned = services.assign_counselors(actor, batch, moved, group=self.job.group)
        except services.Refused as refusal:  # archived since the preview: nothing is written
            raise TableError(str(refusal)) from None
        reapplied = services.student_attributes_changed(actor, upserted.changed_ids)
        result = {
            "created_students": upserted.created,
            "updated_students": upserted.updated,
            "new_forms": len(entries),
            "colleges_created": len(made),
            "counselors_created": len(plan.counts["new_counselors"]),
            "records_reapplied": reapplied,
            "counselors_reassigned": reassigned,
        }
        services.log(
            actor,
            "roster.imported",
            batch=batch,
            group=self.job.group,
            note=f"名单导入：{self.job.filename}",
            data=result,
        )
        return result


def _differs(current: dict, row: StudentRow) -> bool:
    if any(current[f] != getattr(row, f) for f in STUDENT_FIELDS):
        return True
    return bool(row.id_number) and not idnumbers.hash_matches(
        row.id_number, current["id_number_hash"]
    )
