"""The source pages in English (Accept-Language: en) and unchanged in Chinese by default.

Only what a person reads on a page is translated: the reasons stored on records (shown to
students later), the sync log's stored messages and the push API's row errors stay Chinese.
"""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.utils import translation
from django.utils.translation import gettext

from lixiao.clearance import services
from lixiao.clearance.models import State
from lixiao.integrations.models import SyncRun
from lixiao.integrations.services import rows as source_rows
from lixiao.tabular.models import ImportJob
from tests.conftest import record
from tests.integrations.conftest import FINANCE_TOKEN, push

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _back_to_default_language():
    # LocaleMiddleware activates the request's language on this thread; leave it as found.
    yield
    translation.deactivate()


def _messages(response) -> list[str]:
    """The flash messages this response left (then dropped, as if the next page had shown them)."""
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)
    return shown


def test_list_page_in_english_and_in_chinese(client, finance, uni):
    client.force_login(uni.office)
    page = client.get("/integrations/", **EN).content.decode()
    assert "Integration sources (data for automatic steps)" in page
    assert "Push token" in page and "Last data received" in page and "Active" in page
    assert "集成表（自动办理数据）" not in page and "推送令牌" not in page and "已启用" not in page
    assert "集成表1 财务处" in page  # a source's name is data

    page = client.get("/integrations/").content.decode()
    assert "集成表（自动办理数据）" in page and "推送令牌" in page and "已启用" in page
    assert "Integration sources" not in page


def test_detail_page_in_english_keeps_stored_reasons_in_chinese(
    client, finance, uni, django_capture_on_commit_callbacks
):
    client.force_login(uni.office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/integrations/finance/sync/", **EN)
    assert _messages(response) == [
        "Sync of 集成表1 财务处 started; see the sync log below for the result."
    ]
    # The sync ran inside an English request, yet the reason stored for the student is Chinese.
    assert record(uni.form, "财务处").reason == "尚无集成表1 财务处数据"

    page = client.get("/integrations/finance/", **EN).content.decode()
    for english in (
        "Sync now",
        "Sync log",
        "Upload data (.xlsx / .csv)",
        "Download template",
        "Add or update the students in the file",
        "Push API",
        "Token: active (created ",
        "Regenerate token",
        "Database pull (read-only query, run at each sync)",
        "Pull database address",
        "Leave empty for no limit.",
        "Steps it decides: ",
        "Students with no data stay Pending",
        "Checked",
        "Manual",  # the run's trigger
        "Done",  # the run's status
    ):
        assert english in page, english
    for chinese in (
        "立即同步",
        "同步记录",
        "上传并预览",
        "接口推送",
        "保存拉取配置",
        "手动",
        "尚未同步过",
    ):
        assert chinese not in page, chinese

    page = client.get("/integrations/finance/").content.decode()
    assert "立即同步" in page and "同步记录" in page and "手动" in page and "完成" in page
    assert "令牌：已启用（" in page and "决定的环节：" in page
    assert "Sync now" not in page and "Manual" not in page


def test_token_and_pull_messages_in_english_while_the_sync_log_stays_chinese(
    client, finance, uni, django_capture_on_commit_callbacks
):
    client.force_login(uni.office)
    response = client.post("/integrations/finance/token/", {"action": "revoke"}, **EN)
    assert _messages(response) == [
        "Push token revoked: pushes with the old token will be refused (401)."
    ]

    bad = {"pull_url": "mysql://x", "pull_query": "DROP TABLE x", "pull_columns": '["x"]'}
    response = client.post("/integrations/finance/pull/", bad, **EN)
    shown = _messages(response)
    assert (
        "Pull settings are invalid: The pull query must be a single SELECT (or WITH … SELECT) statement."
        in shown
    )
    assert any("must start with sqlite:///" in m for m in shown)
    assert any("keys are only student_number, cleared, reason or amount" in m for m in shown)
    assert not any("拉取" in m for m in shown)

    response = client.post(
        "/integrations/finance/pull/",
        {"pull_url": "sqlite:////nonexistent/lixiao.db", "pull_query": "SELECT * FROM jf"},
        **EN,
    )
    assert _messages(response) == ["Pull settings saved; the next sync will pull with them."]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/integrations/finance/sync/", **EN)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert run.errors[0].startswith(
        "拉取失败：找不到 SQLite 数据库文件"
    )  # stored: never translated
    page = client.get("/integrations/finance/", **EN).content.decode()
    assert "With errors" in page and "拉取失败：" in page


def test_upload_preview_in_english(client, finance, uni, django_capture_on_commit_callbacks):
    client.force_login(uni.finance)
    csv = "学号*,是否结清*,原因,金额\n2022000001,否,欠费 1200.00 元,1200.00\n2022000005,是,,abc\n2022000001,是,,\n"
    upload = _file("finance.csv", csv.encode())
    client.post("/integrations/finance/upload/", {"file": upload, "mode": "upsert"}, **EN)
    job = ImportJob.objects.get()
    page = client.get(f"/integrations/finance/upload/{job.pk}/", **EN).content.decode()
    assert "Upload preview: 集成表1 财务处" in page
    assert "Students added: 1, updated: 0, unchanged: 0" in page
    assert "Rows with errors: 2 (not imported)" in page
    assert "Amount “abc” is not a number." in page and "Duplicate of row 2" in page
    assert "Confirm import (rows: 1)" in page and "Cancel" in page
    assert "确认导入" not in page and "不是数字" not in page and "有误的行" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/integrations/finance/upload/{job.pk}/", **EN)
    assert _messages(response) == [
        "Imported: new 1, updated 0, unchanged 0, deleted 0, unmatched student numbers 0. "
        "The affected students are being synced."
    ]
    assert record(uni.form, "财务处").reason == "欠费 1200.00 元"  # stored as sent


def test_upload_preview_in_chinese_is_unchanged(client, finance, uni):
    client.force_login(uni.finance)
    csv = "学号*,是否结清*,原因,金额\n2022000001,否,,abc\n2022000005,也许,,\n"
    client.post(
        "/integrations/finance/upload/", {"file": _file("f.csv", csv.encode()), "mode": "replace"}
    )
    job = ImportJob.objects.get()
    page = client.get(f"/integrations/finance/upload/{job.pk}/").content.decode()
    assert "上传预览：集成表1 财务处" in page and "有误的行：2（不会导入）" in page
    assert (
        "金额“abc”不是数字" in page
        and "“是否结清”只能填 是/否、通过/未通过、true/false 或 1/0" in page
    )
    assert "新增 0 名学生的数据，更新 0，未变化 0，将删除 0" in page and "确认导入 0 行" in page


def test_push_api_row_errors_stay_chinese_for_the_calling_system(client, finance, uni):
    response = push(
        client,
        "finance",
        [{"student_number": "2022000001", "cleared": False, "amount": "abc"}],
        FINANCE_TOKEN,
        **EN,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"row": 1, "index": 0, "reason": "金额“abc”不是数字"}]


def test_a_sync_started_in_english_stores_its_log_in_chinese(client, finance, uni, monkeypatch):
    """The writer's refusals are translated for pages; what a sync stores is not."""

    def refuse_all(actor, batch, step, items, **kwargs):
        return services.Outcome(
            group=uuid.uuid4(), refused=[(i.form_id, "test", gettext("内容过长")) for i in items]
        )

    monkeypatch.setattr(services, "apply_many", refuse_all)
    client.force_login(uni.finance)
    client.post(f"/integrations/recheck/{record(uni.form, '财务处').pk}/", **EN)
    run = SyncRun.objects.get()
    assert run.errors == [f"离校单 {uni.form.pk}：内容过长（test）"]
    with translation.override("en"):
        assert gettext("内容过长") == "Too long"  # the catalog does have an English text


def test_recheck_in_english(client, finance, uni):
    source_rows.store(finance, [source_rows.Row("2022000001", False, "欠费")])
    client.force_login(uni.finance)
    url = f"/integrations/recheck/{record(uni.form, '财务处').pk}/"
    text = client.post(url, HTTP_HX_REQUEST="true", **EN).content.decode()
    assert "Data updated " in text and ", rechecked" in text and "欠费" in text
    assert "数据更新于" not in text

    response = client.post(url, {"next": "/desk/"}, **EN)
    (message,) = _messages(response)
    assert message.startswith("Rechecked: 财务处 ") and message.endswith(" (欠费)")
    assert record(uni.form, "财务处").state == State.PENDING
    assert record(uni.form, "财务处").reason == "欠费"

    response = client.post(url, {"next": "/desk/"})
    (message,) = _messages(response)
    assert message.startswith("已复查：财务处 ") and message.endswith("（欠费）")


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")
