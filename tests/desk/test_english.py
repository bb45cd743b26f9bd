"""The handler desk and its API in English (Accept-Language: en); without it, the Chinese is unchanged.

Data stays as stored in either language: step titles, batch names, the import file's headers
and values (学号, 结果, 通过/未通过).
"""

import io
import json
import re

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from python_calamine import load_workbook

from lixiao.clearance import departure_code
from lixiao.clearance.models import Grant, State
from lixiao.objections import services as objections
from tests import factories as f
from tests.conftest import client_for, record
from tests.desk.conftest import desk_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    yield
    translation.deactivate()  # an English request must not leave English active for other tests


def text(response) -> str:
    return response.content.decode()


def xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


def test_home_in_english_and_chinese_by_default(uni):
    en = text(client_for(uni.library, "en").get("/desk/"))
    assert '<html lang="en">' in en
    for label in ("Handler desk", "Open desk", "To clear", "Completion", "Step change requests"):
        assert label in en, label
    for label in ("进入办理", "需办理", "完成率", "环节变更申请"):
        assert label not in en, label
    assert uni.batch.name in en and "图书馆" in en  # data: batch name, step title

    zh = text(client_for(uni.library).get("/desk/"))
    assert "进入办理" in zh and "完成率" in zh and "环节变更申请" in zh
    assert "Open desk" not in zh and "To clear" not in zh


def test_no_grant_says_whom_to_ask_in_english(uni):
    f.grant(uni.batch, "图书馆", uni.outsider)  # a handler whose only grant has ended
    Grant.objects.filter(user=uni.outsider).update(ends_on="2000-01-01")
    en = text(client_for(uni.outsider, "en").get("/desk/"))
    assert "You have no grant in any batch. Ask the clearance office" in en
    assert "请联系学生离校工作主管部门" not in en


def test_search_page_and_its_filter_panel_follow_the_language(uni):
    url = desk_url(uni.batch)
    en = text(client_for(uni.dorm, "en").get(url))
    for label in (
        "Advanced search",
        "Live statistics",
        "Recent actions",
        "Export to Excel",
        'placeholder="Student number / name / ID number"',
        "Political status",
        "Status of “学生公寓”",  # the fixed part translated, the step title kept
        '<option value="" selected>All</option>',
        "Not completed",
        'Students: <strong id="result-count">3</strong>',
        "学生公寓: Pending",
        "Select all on this page",
        "All matching students (3)",
        "Import results",
        "Student messages",
    ):
        assert label in en, label
    for label in (
        "高级查询",
        "实时统计",
        "政治面貌",
        "“学生公寓”状态",
        ">全部<",
        "未办结",
        "名学生",
        "全选本页",
    ):
        assert label not in en, label

    # The panel's markup is cached per language: Chinese after English is Chinese again.
    zh = text(client_for(uni.dorm).get(url))
    for label in (
        "高级查询",
        "实时统计",
        "政治面貌",
        "“学生公寓”状态",
        '<option value="" selected>全部</option>',
        "学生公寓：未办理",
    ):
        assert label in zh, label
    for label in ("Advanced search", "Status of", "Political status", "Students:"):
        assert label not in zh, label


def test_one_students_form_and_pass_revoke_in_english(uni):
    client = client_for(uni.dorm, "en")
    dorm = record(uni.form, "学生公寓")
    page = text(client.get(desk_url(uni.batch, f"f/{uni.form.id}/")))
    for label in (
        "Progress: 0 of ",
        "Pass</button>",
        "Note (optional)",
        "(not yours to handle; read only)",
        "Political status",
        "Dormitory",
        "Optional",
        "Final step",
    ):
        assert label in page, label
    for label in ("进度：", "办理通过</button>", "备注（可不填）", "（非本人办理，只读）", "宿舍"):
        assert label not in page, label

    page = text(client.post(desk_url(uni.batch, f"r/{dorm.id}/pass/"), **HX))
    assert 'role="status">Passed</div>' in page and "学生公寓: Cleared" in page
    assert "Revoke</button>" in page
    dorm.refresh_from_db()
    assert dorm.state == State.PASSED

    page = text(client.post(desk_url(uni.batch, f"r/{dorm.id}/revoke/"), follow=True))
    assert "Revoked; the step is pending again" in page and "已撤销" not in page


def test_live_panels_in_english(uni):
    client = client_for(uni.dorm, "en")
    client.post(desk_url(uni.batch, f"r/{record(uni.form, '学生公寓').id}/pass/"), **HX)
    stats = text(client.get(desk_url(uni.batch, "stats/")))
    assert "To clear" in stats and "Today" in stats and "refreshes every 5 seconds" in stats
    assert "需办" not in stats and "每 5 秒" not in stats
    recent = text(client.get(desk_url(uni.batch, "recent/")))
    assert "Handler desk" in recent and "Pending" in recent and "Cleared" in recent
    assert "现场办理" not in recent and "已办理" not in recent


def test_bulk_messages_and_summary_in_english(uni):
    client = client_for(uni.dorm, "en")
    step = record(uni.form, "学生公寓").step
    page = text(client.post(desk_url(uni.batch, "bulk/"), {"step": step.id}, follow=True))
    assert "Choose “Pass” or “Revoke”." in page
    page = text(
        client.post(desk_url(uni.batch, "bulk/"), {"step": step.id, "action": "pass"}, follow=True)
    )
    assert "Tick some students first" in page
    page = text(
        client.post(
            desk_url(uni.batch, "bulk/"), {"step": step.id, "action": "pass", "form": uni.form.id}
        )
    )
    assert "Bulk pass: “学生公寓”" in page and "Passed: <strong>1</strong>" in page
    assert "Back to search results" in page and "已办理通过：" not in page


def test_import_in_english_keeps_the_file_in_chinese(uni):
    client = client_for(uni.dorm, "en")
    page = text(client.get(desk_url(uni.batch, "import/")))
    assert "Import results" in page and "Upload and preview" in page
    assert "学号 (student number)" in page and "上传并预览" not in page
    # The template is a file: its headers stay what the parser reads.
    template = client.get(desk_url(uni.batch, "import/template.xlsx")).content
    assert load_workbook(io.BytesIO(template)).get_sheet_by_index(0).to_python()[0] == [
        "学号*",
        "结果*",
        "备注",
    ]
    step = record(uni.form, "学生公寓").step
    data = xlsx(
        [
            ["学号", "结果", "备注"],
            ["2022000001", "通过", ""],
            ["2099999999", "通过", ""],
            ["2022000005", "可以", ""],
        ]
    )
    page = text(
        client.post(
            desk_url(uni.batch, "import/"),
            {"step": step.id, "file": SimpleUploadedFile("r.xlsx", data)},
            follow=True,
        )
    )
    for label in (
        "To pass: <strong>1</strong>",
        "Rows with problems (not imported): <strong>2</strong>",
        "No student has this student number",
        "The result must be “通过” (pass) or “未通过” (not passed)",
        "<td>学号</td>",  # the column is the file's header: data
        "Confirm import (rows: 1)",
    ):
        assert label in page, label
    assert "系统中没有该学号" not in page and "将办理通过" not in page
    job_id = re.search(r"/import/(\d+)/confirm/", page).group(1)
    page = text(client.post(desk_url(uni.batch, f"import/{job_id}/confirm/"), follow=True))
    assert "Imported “学生公寓”. Changed: 1; unchanged: 0; rows with problems skipped: 2." in page
    assert "This file has been imported." in page


def test_counter_code_refusals_in_english(uni):
    page = client_for(uni.dorm, "en").get("/desk/code/not-a-code/")
    assert page.status_code == 404 and "Counter code not recognised" in text(page)
    token = departure_code.make(uni.form.id)
    page = client_for(uni.counselor_lit, "en").get(f"/desk/code/{token}/")
    assert page.status_code == 404 and "This student is outside your scope." in text(page)
    assert "无法识别" in text(client_for(uni.dorm).get("/desk/code/not-a-code/"))


def test_student_messages_in_english(uni):
    objections.submit(uni.student.user, record(uni.form, "学生公寓"), "done", "钥匙已交给宿管")
    client = client_for(uni.dorm, "en")
    page = text(client.get(desk_url(uni.batch, "objections/")))
    for label in (
        "Student messages",
        "Open: 1",
        "Verified (pass)",
        "Reason for rejecting",
        "钥匙已交给宿管",
    ):
        assert label in page, label
    assert "已核实（办理通过）" not in page and "条未处理" not in page
    item = page.split('id="objection-')[1].split('"')[0]
    page = text(client.post(desk_url(uni.batch, f"objections/{item}/confirm/"), follow=True))
    assert "Verified: “学生公寓” is now passed." in page


def test_delegation_and_change_requests_in_english(uni):
    Grant.objects.filter(user=uni.counselor_cs).update(is_lead=True)
    page = text(client_for(uni.counselor_cs, "en").get("/desk/delegate/"))
    assert "Grant steps to your college's staff" in page and "People I have granted" in page
    assert "向本院系人员授权" not in page
    page = text(client_for(uni.library, "en").get("/desk/change-requests/"))
    assert "Step change requests" in page and "My requests" in page and "No requests yet." in page
    assert "我的申请" not in page


def test_api_messages_follow_the_language(uni):
    response = client_for(uni.outsider, "en").get("/api/v1/desk/batches")
    assert response.status_code == 403
    assert response.json()["detail"] == "You do not have access to the handler desk"
    assert (
        client_for(uni.outsider).get("/api/v1/desk/batches").json()["detail"]
        == "您没有现场办理的权限"
    )


def test_push_api_refusals_in_english(uni):
    from lixiao.integrations.models import IntegrationSource
    from lixiao.integrations.services import set_token

    set_token(IntegrationSource.objects.get(code="finance"), "token-en")
    url = "/api/v1/sources/finance/rows"
    auth = {"HTTP_AUTHORIZATION": "Bearer token-en"}
    client = Client()
    en = client.post(
        url, "{nope", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **auth
    )
    assert en.status_code == 422
    assert en.json()["detail"] == "The body is not valid JSON: error near line 1, column 2"
    en = client.post(
        url,
        json.dumps({"mode": "merge", "rows": []}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **auth,
    )
    assert en.json()["detail"] == "mode must be upsert or replace"
    zh = client.post(url, "{nope", content_type="application/json", **auth)
    assert zh.json()["detail"] == "请求体不是合法的 JSON：第 1 行第 2 列附近有误"


def test_an_english_page_still_exports_chinese_state_words(uni, as_user):
    """The .xlsx is a shared record with Chinese headers; its cells do not follow the page."""
    from python_calamine import load_workbook

    response = as_user(uni.dorm).get(desk_url(uni.batch, "export.xlsx"), HTTP_ACCEPT_LANGUAGE="en")
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    cells = {str(c) for row in rows[1:] for c in row}
    assert "未办理" in cells and "Pending" not in cells


def test_a_deadline_in_the_live_panel_in_english(uni):
    from datetime import timedelta

    from django.utils import timezone

    from lixiao.clearance.models import Step

    day = timezone.localdate() - timedelta(days=1)
    Step.objects.filter(category=uni.category, title="学生公寓").update(deadline=day)
    stats = text(client_for(uni.dorm, "en").get(desk_url(uni.batch, "stats/")))
    assert f"Deadline {day:%Y-%m-%d}" in stats and "Past deadline" in stats
    assert "截止" not in stats
