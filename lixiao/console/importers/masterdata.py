"""Master-data importers: colleges and departments (one code/name importer) and staff."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lixiao.clearance.models import Event, Source
from lixiao.console.importers.common import (
    EXAMPLE_ID,
    PlaceIndex,
    StaffEntry,
    create_staff,
    good_rows,
    parse_id_number,
    staff_by_number,
    usernames_taken,
)
from lixiao.directory.choices import forget_colleges
from lixiao.directory.models import (
    College,
    Department,
    Staff,
    User,
)
from lixiao.portal import invalidation
from lixiao.tabular import jobs
from lixiao.tabular.models import ImportJob
from lixiao.tabular.reader import TableError
from lixiao.tabular.schema import Column, RowError

# ---------------------------------------------------------------------------------------------
# master data: colleges and departments share one code/name importer; staff create accounts


class PlaceImporter(jobs.Importer):
    """Code + name (+ extra fields): new codes are created, known codes renamed/updated."""

    model = College
    extra: tuple[str, ...] = ()

    def check(self, validated) -> jobs.Plan:
        known = {p.code: p for p in self.model.objects.all()}
        names = {p.name: p.code for p in known.values()}
        errors, first, seen_names = [], {}, {}
        for row, v in validated.rows:
            if v["code"] in first:
                errors.append(
                    RowError(
                        row,
                        self.columns[0].header,
                        _("代码在文件中重复（与第 %(row)s 行）") % {"row": first[v["code"]]},
                        v["code"],
                    )
                )
            first.setdefault(v["code"], row)
            owner = names.get(v["name"])
            if (owner and owner != v["code"]) or seen_names.get(v["name"], v["code"]) != v["code"]:
                errors.append(
                    RowError(row, self.columns[1].header, _("名称已被其他代码使用"), v["name"])
                )
            seen_names.setdefault(v["name"], v["code"])
        good = [v for _row, v in good_rows(errors, validated.rows)]
        new = [v for v in good if v["code"] not in known]
        changed = [
            v
            for v in good
            if v["code"] in known
            and any(getattr(known[v["code"]], f) != v[f] for f in ("name", *self.extra))
        ]
        return jobs.Plan(
            counts={
                "new": len(new),
                "updated": len(changed),
                "unchanged": len(good) - len(new) - len(changed),
            },
            errors=errors,
            rows=[*new, *changed],
        )

    def apply(self, plan: jobs.Plan) -> dict:
        if plan.errors:
            raise TableError(
                _("文件中仍有 %(n)s 处错误，未导入。请修改后重新上传。") % {"n": len(plan.errors)}
            )
        known = {p.code: p for p in self.model.objects.all()}
        fields = ("name", *self.extra)
        # Names are unique: park renamed rows on a temporary name first so swaps do not collide.
        changed = [known[v["code"]] for v in plan.rows if v["code"] in known]
        for obj in changed:
            obj.name = f"~{obj.code}"
        self.model.objects.bulk_update(changed, ["name"]) if changed else None
        by_code = {v["code"]: v for v in plan.rows}
        for obj in changed:
            for f in fields:
                setattr(obj, f, by_code[obj.code][f])
        if changed:
            self.model.objects.bulk_update(changed, list(fields))
        new = [
            self.model(code=v["code"], **{f: v[f] for f in fields})
            for v in plan.rows
            if v["code"] not in known
        ]
        self.model.objects.bulk_create(new)
        if changed:  # bulk_update sends no signal; students' pages show these names
            invalidation.categories_changed()
        if self.model is College and (new or changed):
            forget_colleges()  # the desk's filter lists them (bulk writes send no post_save)
        _audit_master(self.job, self.kind, len(new), len(changed))
        return {"created": len(new), "updated": len(changed)}


def _audit_master(job: ImportJob, kind: str, created: int, updated: int) -> None:
    Event.objects.create(
        actor=job.created_by,
        action=f"{kind}.imported",
        source=Source.IMPORT,
        client_ip=job.context.get("client_ip"),
        group=job.group,
        note=f"导入：{job.filename}"[:255],
        data={"created": created, "updated": updated},
    )


@jobs.register
class CollegeImporter(PlaceImporter):
    kind = "console.colleges"
    model = College
    columns = [  # noqa: RUF012 (the registry reads it from the class)
        Column("code", "院系代码", required=True, example="CS"),
        Column("name", "院系名称", required=True, example="计算机与信息科学学院"),
    ]


@jobs.register
class DepartmentImporter(PlaceImporter):
    kind = "console.departments"
    model = Department
    extra = ("contact",)
    columns = [  # noqa: RUF012 (the registry reads it from the class)
        Column("code", "部门代码", required=True, example="LIB"),
        Column("name", "部门名称", required=True, example="图书馆"),
        Column("contact", "联系方式", example="图书馆一楼服务台 023-00000001"),
    ]


STAFF_COLUMNS = [
    Column("staff_number", "职工号", required=True, example="T1001"),
    Column("name", "姓名", required=True, example="张老师"),
    Column(
        "college",
        "院系",
        example="计算机与信息科学学院",
        help=gettext_noop("院系名称或代码；院系辅导员填写"),
    ),
    Column(
        "department", "职能部门", example="", help=gettext_noop("部门名称或代码；职能部门人员填写")
    ),
    Column("phone", "联系电话", example="023-00000000"),
    Column(
        "id_number",
        "身份证件号",
        parse=parse_id_number,
        example=EXAMPLE_ID,
        help=gettext_noop("填写后初始密码为其后 6 位；不填则账号暂无可用密码，须由管理员重置"),
    ),
]
# The help texts are the template workbook's cell comments (kept Chinese: gettext_noop only
# marks them for pages that show them translated).


@jobs.register
class StaffImporter(jobs.Importer):
    """Staff and their accounts; existing 职工号 are updated (name, college, department, phone)."""

    kind = "console.staff"
    columns = STAFF_COLUMNS

    def check(self, validated) -> jobs.Plan:
        colleges, departments = PlaceIndex(College), PlaceIndex(Department)
        numbers = [v["staff_number"] for _row, v in validated.rows]
        staff = staff_by_number(numbers)
        taken = usernames_taken(numbers)
        errors, first, rows = [], {}, []
        for row, v in validated.rows:
            bad = len(errors)
            number = v["staff_number"]
            if number in first:
                errors.append(
                    RowError(
                        row,
                        "职工号",
                        _("职工号在文件中重复（与第 %(row)s 行）") % {"row": first[number]},
                        number,
                    )
                )
            first.setdefault(number, row)
            if number not in staff and number in taken:
                errors.append(RowError(row, "职工号", _("该号码已被学生账号使用"), number))
            college = colleges.find(v["college"]) if v["college"] else None
            if v["college"] and college is None:
                errors.append(
                    RowError(row, "院系", _("院系不存在，请先在院系中添加"), v["college"])
                )
            department = departments.find(v["department"]) if v["department"] else None
            if v["department"] and department is None:
                errors.append(
                    RowError(
                        row,
                        "职能部门",
                        _("职能部门不存在，请先在职能部门中添加"),
                        v["department"],
                    )
                )
            if len(errors) == bad:
                rows.append(
                    StaffEntry(
                        number,
                        v["name"],
                        college.id if college else None,
                        department.id if department else None,
                        v["phone"],
                        v["id_number"] or "",
                    )
                )
        new = sum(1 for r in rows if r.staff_number not in staff)
        return jobs.Plan(
            counts={
                "new": new,
                "updated": len(rows) - new,
                "without_id": sum(
                    1 for r in rows if r.staff_number not in staff and not r.id_number
                ),
            },
            errors=errors,
            rows=rows,
        )

    def apply(self, plan: jobs.Plan) -> dict:
        if plan.errors:
            raise TableError(
                _("文件中仍有 %(n)s 处错误，未导入。请修改后重新上传。") % {"n": len(plan.errors)}
            )
        existing = {
            s.staff_number: s
            for s in Staff.objects.filter(staff_number__in=[r.staff_number for r in plan.rows])
        }
        new = [r for r in plan.rows if r.staff_number not in existing]
        create_staff(new)
        updated = []
        for r in plan.rows:
            s = existing.get(r.staff_number)
            if s is None:
                continue
            s.name, s.college_id, s.department_id, s.phone = (
                r.name,
                r.college_id,
                r.department_id,
                r.phone,
            )
            if r.id_number:
                s.set_id_number(r.id_number)
            updated.append(s)
        if updated:
            Staff.objects.bulk_update(
                updated,
                [
                    "name",
                    "college",
                    "department",
                    "phone",
                    "id_number_enc",
                    "id_number_hash",
                    "id_number_masked",
                ],
            )
            User.objects.bulk_update([User(id=s.user_id, name=s.name) for s in updated], ["name"])
        if updated:  # bulk_update sends no signal; a step's history shows the handler's unit
            invalidation.categories_changed()
        _audit_master(self.job, self.kind, len(new), len(updated))
        return {"created": len(new), "updated": len(updated)}
