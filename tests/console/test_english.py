"""The office console in English (Accept-Language: en); without it, the Chinese is unchanged.

Data stays as stored in either language: batch, category and step names, college names.
Files stay Chinese (template workbooks, exports), and so do notifications and audit notes:
their readers' language is unknown when they are written.
"""

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from python_calamine import load_workbook

from lixiao.clearance import services
from lixiao.clearance.models import ChangeRequest, Event, Step
from lixiao.console import importers
from lixiao.console.charts import daily_chart
from lixiao.notify.models import Notification
from lixiao.tabular.models import ImportJob
from tests import factories as f
from tests.conftest import client_for, record
from tests.console.importing import roster_file, roster_row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    yield
    translation.deactivate()  # an English request must not leave English active for other tests


@pytest.fixture
def english(uni, media, tasks_now):
    return client_for(uni.office, "en")


@pytest.fixture
def chinese(uni, media, tasks_now):
    return client_for(uni.office)


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_home_and_navigation_in_english_with_data_unchanged(english, uni):
    page = text(english.get(reverse("console:home")))
    for label in ("Overview", "Categories", "Batches", "Step change requests", "Audit log"):
        assert label in page
    assert "New batch" in page and "Service window" in page and "In use" in page
    for chinese in ("概览", "离校批次", "新建离校批次", "服务时间", "使用中", "环节变更申请"):
        assert chinese not in page
    assert uni.batch.name in page  # data: the batch's name as stored


def test_home_without_the_header_is_chinese_as_before(chinese, uni):
    page = text(chinese.get(reverse("console:home")))
    assert "概览" in page and "新建离校批次" in page and "使用中" in page
    assert "Overview" not in page and "New batch" not in page


def test_category_page_steps_and_conditions_in_english(english, uni):
    page = text(english.get(reverse("console:category", args=[uni.category.pk]) + "?setup=1"))
    assert "1. Name and rules" in page and "3. Grants" in page  # the set-up wizard
    assert "Final step" in page and "Optional" in page and "Automatic (集成表2 图书馆)" in page
    assert "Move 图书馆 up" in page  # an aria-label, with the step title as data
    assert "Batches using this category" in page
    for chinese in ("最终环节", "选办", "添加环节", "名称与规则", "全体学生", "上移"):
        assert chinese not in page
    assert "组织关系转移" in page and "院系离校" in page


def test_batch_page_and_grants_in_english(english, uni):
    page = text(english.get(reverse("console:batch", args=[uni.batch.pk])))
    assert "Progress and grants by step" in page and "Roster import" in page
    assert "Students: 3, completed: 0 (0.0%)" in page
    assert '<dd class="col-sm-4">Undergraduate</dd>' in page  # a choice's label, not its value
    assert "各环节进度与授权" not in page and "名单导入" not in page
    grants = text(english.get(reverse("console:batch_grants", args=[uni.batch.pk])))
    assert "Who can clear what" in grants and "Add grant" in grants and "Revoke grant" in grants
    assert "谁可以办理什么" not in grants and "添加授权" not in grants
    assert "图书馆王老师" in grants  # a person's name is data


def test_batch_form_errors_and_messages_in_english(english, chinese, uni):
    data = {
        "name": "2027届研究生离校",
        "academic_year": "2027",
        "category": uni.category.pk,
        "opens_at": "2027-06-01T08:00",
        "closes_at": "2027-05-01T08:00",
    }
    page = text(english.post(reverse("console:batch_create"), data))
    assert "Write the academic year as “2026-2027”" in page
    assert "The service window must close after it opens." in page
    assert "学年格式应为" not in page
    page = text(chinese.post(reverse("console:batch_create"), data))
    assert "学年格式应为“2026-2027”：两个相邻的年份，中间用减号连接。" in page
    data.update(academic_year="2026-2027", closes_at="2027-07-01T08:00")
    page = text(english.post(reverse("console:batch_create"), data, follow=True))
    assert "Batch “2027届研究生离校” created" in page and "Next: import the roster." in page


def test_category_messages_in_each_language(english, chinese, uni):
    page = text(
        english.post(reverse("console:category_delete", args=[uni.category.pk]), follow=True)
    )
    assert "is used by batches (2026届本科生离校) and cannot be deleted" in page
    page = text(
        chinese.post(reverse("console:category_delete", args=[uni.category.pk]), follow=True)
    )
    assert "“本科生离校”正被离校批次使用（2026届本科生离校），不能删除" in page


def test_change_request_page_in_english_and_the_notification_stays_chinese(english, uni):
    change = ChangeRequest.objects.create(
        category=uni.category,
        kind="add",
        title="体检",
        reason="新增体检环节",
        requested_by=uni.library,
    )
    listing = text(english.get(reverse("console:change_requests")))
    assert "Pending review (1)" in listing and "Add step “体检”" in listing
    page = text(english.get(reverse("console:change_request", args=[change.pk])))
    assert "Approve" in page and "Reject" in page and "Review comment" in page
    assert "同意" not in page and "驳回" not in page
    response = english.post(
        reverse("console:change_request", args=[change.pk]),
        {"decision": "reject", "note": ""},
    )
    assert "Give a reason when rejecting" in text(response)
    english.post(
        reverse("console:change_request", args=[change.pk]),
        {"decision": "reject", "note": "不需要"},
    )
    notice = Notification.objects.get(user=uni.library)
    assert notice.title == "环节变更申请已驳回：新增环节“体检”"  # a notification: default language


def test_roster_preview_in_english_keeps_the_files_own_headers(english, uni):
    rows = [
        roster_row("2026000101", "新院学生", "新设学院", 31, counselor=("T5555", "吴老师")),
        roster_row("2026000102", "重复", "CS", 32),
        roster_row("2026000102", "重复", "CS", 33),
    ]
    url = reverse("console:roster", args=[uni.batch.id])
    page = text(english.post(url, {"file": upload(roster_file(rows), "r.xlsx")}, follow=True))
    assert "Roster preview" in page and "Rows with errors" in page
    assert "No such college (tick below to create it)" in page
    assert "Student number repeated in the file (same as row 3)" in page
    assert "Create new colleges (1): 新设学院" in page
    assert "Create new counselor accounts (1; staff numbers T5555" in page
    assert "院系不存在" not in page and "名单预览" not in page
    assert "<td>院系</td>" in page and "<td>学号</td>" in page  # the file's column headers
    # The preview's offer still works when the row messages are English.
    job = ImportJob.objects.filter(context__batch=uni.batch.id).latest("id")
    assert job.preview["counts"]["unknown_colleges"] == ["新设学院"]
    assert job.preview["counts"]["unknown_counselors"] == ["T5555"]


def test_a_background_failure_is_shown_in_the_readers_language(english, chinese, uni):
    url = reverse("console:roster", args=[uni.batch.id])
    rows = [roster_row("2026000101", "新学生", "CS", 31)]
    english.post(url, {"file": upload(roster_file(rows), "r.xlsx")})
    job = ImportJob.objects.filter(context__batch=uni.batch.id).latest("id")
    # As the background task stores it: in the default language, whoever reads it later.
    job.status, job.result = ImportJob.Status.FAILED, {"error": importers.IMPORT_FAILED}
    job.save()
    preview = reverse("console:roster_preview", args=[uni.batch.id, job.id])
    page = text(english.get(preview))
    assert "The import failed and nothing was written: The import failed and every change" in page
    page = text(chinese.get(preview))
    assert "导入失败，没有写入任何数据：导入失败，所有更改均已撤回。" in page


def test_roster_template_and_page_in_english(english, uni):
    page = text(english.get(reverse("console:roster", args=[uni.batch.id])))
    assert "Download the roster template (.xlsx)" in page and "Template columns" in page
    # Column headers are the file's; their help is shown translated, value lists are not.
    assert "身份证件号" in page and "its last 6 characters are the initial password" in page
    assert "本科生 / 硕士研究生 / 博士研究生" in page
    assert "下载名单模板" not in page and "最后 6 位是初始密码" not in page
    response = english.get(reverse("console:roster_template"))
    book = load_workbook(io.BytesIO(response.content))
    header = book.get_sheet_by_index(0).to_python()[0]
    assert header[:3] == ["学号*", "姓名*", "身份证件号*"]  # the workbook stays Chinese


def test_master_data_in_english(english, uni):
    page = text(english.get(reverse("console:masterdata_kind", args=["staff"])))
    assert ">Colleges<" in page and ">Departments<" in page and ">Staff<" in page
    assert "Add staff member" in page and "Import from Excel" in page
    assert "新增教职工" not in page and "Excel 导入" not in page
    page = text(english.get(reverse("console:masterdata_kind", args=["colleges"]) + "?q=无此院"))
    assert "No colleges match “无此院”." in page
    page = text(english.get(reverse("console:masterdata_import", args=["departments"])))
    assert "Import departments" in page and "Download the departments import template" in page


def test_supervision_in_english_and_reminders_stay_chinese(english, uni):
    page = text(english.get(reverse("console:supervision", args=[uni.batch.id])))
    assert "Follow-up" in page and "Progress by step" in page and "Students waiting longest" in page
    assert "<strong>0</strong> / 3 completed (0.0%)" in page and "学生公寓 pending" in page
    assert "跟进及督办" not in page and "进度最慢的环节" not in page
    step = Step.objects.get(category=uni.category, title="学生公寓")
    response = english.post(
        reverse("console:supervision_remind", args=[uni.batch.id]),
        {"target": f"step:{step.id}"},
        follow=True,
    )
    assert "Reminders sent for the step “学生公寓”: handlers: 1, students: 3." in text(response)
    notice = Notification.objects.get(user=uni.dorm)
    assert notice.title == f"督办提醒：{uni.batch.name}"
    assert notice.body == "环节“学生公寓”尚有 3 名学生未办结，请尽快办理。"
    assert Event.objects.get(action="console.reminder.sent").note == "督办提醒：环节“学生公寓”"


def test_daily_chart_labels_follow_the_language():
    daily = [(date(2026, 6, 1), 2), (date(2026, 6, 3), 5)]
    with translation.override("en"):
        svg = daily_chart(daily)
    assert 'aria-label="Completions per day"' in svg and "2026-06-03: 5 completed" in svg
    with translation.override("zh-hans"):
        svg = daily_chart(daily)
    assert 'aria-label="每日办结人数"' in svg and "2026-06-03：5 人" in svg


def test_audit_viewer_in_english_and_its_export_stays_chinese(english, uni):
    services.pass_record(services.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    page = text(english.get(reverse("console:audit")))
    assert "Export to Excel" in page and "Filter" in page and "IP address" in page
    assert "Pending → Cleared" in page and "Handler desk" in page  # choice labels
    assert "导出 Excel" not in page and "没有符合条件的记录" not in page
    response = english.get(reverse("console:audit_export"))
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["时间", "操作人", "动作"]
    cells = [str(c) for row in rows[1:] for c in row]
    assert "未办理" in cells and "已办理" in cells and "现场办理" in cells
    assert "Cleared" not in cells and "Handler desk" not in cells


def test_survey_and_service_pages_in_english(english, uni):
    page = text(english.get(reverse("console:service", args=[uni.category.pk])))
    assert "Student services" in page and "Departure form (always offered)" in page
    assert "Offer the survey to students" in page and "Add question" in page
    assert "学生服务设置" not in page and "添加题目" not in page
    page = text(english.get(reverse("console:survey_results", args=[uni.category.pk])))
    assert "Survey results" in page and "Responses: 0" in page and "All batches" in page


def test_an_audit_administrator_reads_the_english_notice(uni, media, tasks_now):
    auditor = f.staff("AU0001", "审计管理员", is_auditor=True)
    page = text(client_for(auditor, "en").get(reverse("console:home")))
    assert "You are viewing as the audit administrator" in page
    assert "您以审计管理员身份只读查看" not in page
