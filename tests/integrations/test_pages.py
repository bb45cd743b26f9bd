"""Source pages: who sees which source, sync now, the token shown once, upload preview/confirm, recheck."""

import pytest

from lixiao.clearance.models import Event, State
from lixiao.integrations.models import SourceRow, SyncRun
from lixiao.integrations.services import hash_token
from lixiao.integrations.services import rows as source_rows
from lixiao.tabular.models import ImportJob
from tests.conftest import record
from tests.integrations.conftest import push


def test_outsider_gets_403_and_another_department_404(client, finance, uni):
    client.force_login(uni.outsider)
    assert client.get("/integrations/").status_code == 403
    client.force_login(uni.library)
    assert client.get("/integrations/finance/").status_code == 404
    assert client.post("/integrations/finance/sync/").status_code == 404
    assert not SyncRun.objects.exists()
    page = client.get("/integrations/").content.decode()
    assert "集成表2 图书馆" in page and "集成表1 财务处" not in page


def test_department_syncs_its_source_and_sees_the_log(
    client, finance, uni, django_capture_on_commit_callbacks
):
    source_rows.store(finance, [source_rows.Row("2022000001", True)])
    client.force_login(uni.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/integrations/finance/sync/")
    assert response.status_code == 302
    assert record(uni.form, "财务处").state == State.PASSED
    page = client.get("/integrations/finance/").content.decode()
    assert "同步记录" in page and "手动" in page and "赵老师" in page


def test_token_is_shown_once_and_only_the_office_rotates_it(client, finance, uni):
    client.force_login(uni.finance)
    assert client.post("/integrations/finance/token/", {"action": "rotate"}).status_code == 403
    client.force_login(uni.office)
    response = client.post("/integrations/finance/token/", {"action": "rotate"})
    token = response.context["new_token"]
    assert token.startswith("lx_") and token in response.content.decode()
    finance.refresh_from_db()
    assert finance.token_hash == hash_token(token)
    audit = Event.objects.get(action="integrations.token.rotated")
    assert audit.actor_id == uni.office.pk and token not in str(audit.data) + audit.note
    assert token not in client.get("/integrations/finance/").content.decode()
    assert (
        push(
            client, "finance", [{"student_number": "2022000001", "cleared": True}], token
        ).status_code
        == 200
    )
    client.post("/integrations/finance/token/", {"action": "revoke"})
    assert (
        push(
            client, "finance", [{"student_number": "2022000001", "cleared": True}], token
        ).status_code
        == 401
    )


def test_upload_preview_then_confirm(client, finance, uni, django_capture_on_commit_callbacks):
    client.force_login(uni.finance)
    assert client.get("/integrations/finance/template.xlsx").status_code == 200
    csv = "学号*,是否结清*,原因,金额\n2022000001,否,欠费 1200.00 元,1200.00\n2022000005,是,,\n2099000001,通过,,\n2022000003,也许,,\n"
    upload = _file("finance.csv", csv.encode())
    response = client.post("/integrations/finance/upload/", {"file": upload, "mode": "upsert"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.preview["counts"] == {
        "new": 3,
        "changed": 0,
        "unchanged": 0,
        "unmatched": 1,
    }
    assert job.preview["errors"][0]["row"] == 5
    assert not SourceRow.objects.exists()  # a preview writes nothing
    preview = client.get(f"/integrations/finance/upload/{job.pk}/").content.decode()
    assert "确认导入 3 行" in preview and "也许" in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/integrations/finance/upload/{job.pk}/")
    assert SourceRow.objects.count() == 3
    assert record(uni.form, "财务处").reason == "欠费 1200.00 元"
    assert record(uni.form_cs2, "财务处").state == State.PASSED
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.UPLOAD
    # Another department cannot see or confirm this job.
    client.force_login(uni.library)
    assert client.get(f"/integrations/finance/upload/{job.pk}/").status_code == 404


def test_office_configures_pull_and_refuses_writes(client, finance, uni):
    client.force_login(uni.office)
    client.post(
        "/integrations/finance/pull/",
        {
            "pull_url": "sqlite:///x.db",
            "pull_query": "DROP TABLE x",
            "pull_columns": "{}",
            "stale_after_hours": "",
        },
    )
    finance.refresh_from_db()
    assert finance.pull_query == ""
    client.post(
        "/integrations/finance/pull/",
        {
            "pull_url": "sqlite:///x.db",
            "pull_query": "SELECT * FROM jf",
            "pull_columns": '{"student_number": "xh"}',
            "stale_after_hours": "48",
        },
    )
    finance.refresh_from_db()
    assert finance.pull_query == "SELECT * FROM jf" and finance.stale_after_hours == 48


@pytest.mark.parametrize(
    "who,status", [("counselor_cs", 302), ("counselor_lit", 404), ("outsider", 403)]
)
def test_recheck_needs_to_read_the_form(client, finance, uni, who, status):
    source_rows.store(finance, [source_rows.Row("2022000001", True)])
    client.force_login(getattr(uni, who))
    response = client.post(
        f"/integrations/recheck/{record(uni.form, '财务处').pk}/", {"next": "https://evil.example/"}
    )
    assert response.status_code == status
    assert (record(uni.form, "财务处").state == State.PASSED) == (status == 302)
    if status == 302:
        assert "evil" not in response["Location"]


def test_recheck_partial_shows_freshness(client, finance, uni):
    source_rows.store(finance, [source_rows.Row("2022000001", False, "欠费")])
    client.force_login(uni.finance)
    page = client.post(
        f"/integrations/recheck/{record(uni.form, '财务处').pk}/", HTTP_HX_REQUEST="true"
    )
    text = page.content.decode()
    assert "未办理" in text and "欠费" in text and "数据更新于" in text


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_upload_with_a_repeated_column_or_no_rows_is_refused_naming_it(client, finance, uni):
    client.force_login(uni.finance)
    twice = "学号,是否结清,结果\n2022000001,是,否\n"  # 结果 is another name of 是否结清
    page = client.post(
        "/integrations/finance/upload/",
        {"file": _file("finance.csv", twice.encode("gbk")), "mode": "replace"},
        follow=True,
    ).content.decode()
    assert "“是否结清”列在表头中出现了 2 次：第 B 列“是否结清”、第 C 列“结果”" in page
    header_only = client.post(
        "/integrations/finance/upload/",
        {"file": _file("finance.csv", "学号,是否结清\n".encode()), "mode": "replace"},
        follow=True,
    ).content.decode()
    # A replace with no rows would have emptied the source: refused, and it says why.
    assert "文件只有表头（第 1 行），没有数据行" in header_only
    assert not ImportJob.objects.exists() and not SyncRun.objects.exists()
