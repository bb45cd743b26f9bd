"""Master data: colleges, departments and staff — list, search, create, edit, import (same mechanism)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lixiao.accounts import passwords
from lixiao.clearance.models import Event
from lixiao.directory.models import College, Department, Staff
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.console.importing import upload, xlsx

pytestmark = pytest.mark.django_db


def _import(client, kind: str, rows):
    response = client.post(
        reverse("console:masterdata_import", args=[kind]),
        {"file": upload(xlsx(rows), "data.xlsx")},
        follow=True,
    )
    return response, ImportJob.objects.filter(kind=f"console.{kind}").latest("id")


def test_lists_search_and_paginate(office_client, uni):
    for i in range(60):
        College.objects.create(code=f"Z{i:02d}", name=f"测试学院{i:02d}")
    page = office_client.get(reverse("console:masterdata")).content.decode()
    assert "计算机与信息科学学院" in page and "第 1 / 2 页" in page
    found = office_client.get(
        reverse("console:masterdata_kind", args=["colleges"]), {"q": "文学"}
    ).content.decode()
    assert "文学院" in found and "测试学院01" not in found
    staff = office_client.get(
        reverse("console:masterdata_kind", args=["staff"]), {"q": "T1001"}
    ).content.decode()
    assert "张老师" in staff and "李老师" not in staff
    assert (
        office_client.get(reverse("console:masterdata_kind", args=["nothing"])).status_code == 404
    )


def test_create_and_edit_a_college_and_a_department(office_client, uni):
    office_client.post(
        reverse("console:masterdata_new", args=["colleges"]), {"code": "MATH", "name": "数学学院"}
    )
    college = College.objects.get(code="MATH")
    office_client.post(
        reverse("console:masterdata_edit", args=["colleges", college.pk]),
        {"code": "MATH", "name": "数学与统计学院"},
    )
    assert College.objects.get(pk=college.pk).name == "数学与统计学院"
    response = office_client.post(
        reverse("console:masterdata_new", args=["departments"]),
        {"code": "LIB", "name": "另一个图书馆", "contact": ""},
    )
    assert "已存在" in response.content.decode()  # unique code: a sentence on the form, not a crash
    assert Event.objects.filter(action="console.colleges.updated").exists()


def test_create_staff_with_and_without_id_number(office_client, uni):
    office_client.post(
        reverse("console:masterdata_new", args=["staff"]),
        {
            "staff_number": "T3001",
            "name": "有证件",
            "college": uni.cs.pk,
            "id_number": f.id_number(7),
        },
    )
    office_client.post(
        reverse("console:masterdata_new", args=["staff"]),
        {"staff_number": "T3002", "name": "无证件"},
    )
    with_id = Staff.objects.get(staff_number="T3001").user
    without = Staff.objects.get(staff_number="T3002").user
    assert passwords.check_initial(with_id, f.id_number(7)[-6:])
    assert not passwords.check_initial(without, "") and not without.has_usable_password()
    page = office_client.get(reverse("console:masterdata_kind", args=["staff"])).content.decode()
    assert "须由管理员重置" in page and f.id_number(7)[-6:] not in page  # ID numbers masked


def test_staff_number_taken_by_a_student_is_refused(office_client, uni):
    response = office_client.post(
        reverse("console:masterdata_new", args=["staff"]),
        {"staff_number": uni.student.student_number, "name": "重号"},
    )
    assert "已被其他账号使用" in response.content.decode()


def test_college_import_previews_then_creates_and_renames(office_client, uni):
    response, job = _import(
        office_client,
        "colleges",
        [["院系代码*", "院系名称*"], ["CS", "计算机学院"], ["ART", "美术学院"], ["ART", "重复"]],
    )
    assert job.preview["counts"]["new"] == 1 and "重复" in response.content.decode()
    assert not College.objects.filter(code="ART").exists()
    response, job = _import(
        office_client,
        "colleges",
        [["院系代码*", "院系名称*"], ["CS", "计算机学院"], ["ART", "美术学院"]],
    )
    office_client.post(reverse("console:masterdata_confirm", args=["colleges", job.id]))
    assert (
        College.objects.get(code="CS").name == "计算机学院"
        and College.objects.filter(code="ART").exists()
    )


def test_department_import_updates_contact(office_client, uni):
    _response, job = _import(
        office_client,
        "departments",
        [["部门代码*", "部门名称*", "联系方式"], ["LIB", "图书馆", "新馆二楼"]],
    )
    assert job.preview["counts"] == {"new": 0, "updated": 1, "unchanged": 0}
    office_client.post(reverse("console:masterdata_confirm", args=["departments", job.id]))
    assert Department.objects.get(code="LIB").contact == "新馆二楼"


def test_staff_import_creates_accounts_and_updates_existing(office_client, uni):
    rows = [
        ["职工号*", "姓名*", "院系", "职能部门", "联系电话", "身份证件号"],
        ["T4001", "新老师", "CS", "", "", f.id_number(9)],
        ["T4002", "无证件老师", "", "图书馆", "", ""],
        ["T1001", "张老师（改名）", "CS", "", "", ""],
        ["T4003", "坏院系", "不存在", "", "", ""],
    ]
    response, job = _import(office_client, "staff", rows)
    assert job.preview["counts"] == {"new": 2, "updated": 1, "without_id": 1}
    assert "院系不存在" in response.content.decode() and "确认导入" not in response.content.decode()
    _response, job = _import(office_client, "staff", rows[:4])
    page = office_client.get(
        reverse("console:masterdata_preview", args=["staff", job.id])
    ).content.decode()
    assert "1 名新教职工没有身份证件号" in page
    office_client.post(reverse("console:masterdata_confirm", args=["staff", job.id]))
    assert passwords.check_initial(
        Staff.objects.get(staff_number="T4001").user, f.id_number(9)[-6:]
    )
    assert Staff.objects.get(staff_number="T4002").department.code == "LIB"
    assert Staff.objects.get(staff_number="T1001").user.name == "张老师（改名）"


@pytest.mark.parametrize("kind", ["colleges", "departments", "staff"])
def test_list_queries_do_not_grow_with_rows(office_client, uni, kind):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert (
                office_client.get(reverse("console:masterdata_kind", args=[kind])).status_code
                == 200
            )
        return len(ctx.captured_queries)

    count()  # the first request of a session also refreshes the session
    before = count()
    for i in range(15):
        c = College.objects.create(code=f"Q{i}", name=f"查询学院{i}")
        d = Department.objects.create(code=f"Q{i}", name=f"查询部门{i}")
        f.staff(f"Q{i:04d}", f"查询老师{i}", college=c, department=d)
    assert count() == before
