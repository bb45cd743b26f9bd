"""The student's own data (PIPL art. 45): the account page, JSON and Excel downloads of
everything held about them, ID masked, audited, only ever their own, in fixed queries."""

import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from lixiao.clearance import services
from lixiao.clearance.models import Event
from lixiao.notify import services as notify
from lixiao.objections import services as objections
from tests import factories as f
from tests.conftest import record
from tests.portal.conftest import library_row, upload

pytestmark = pytest.mark.django_db


def logged_in(user, address="10.1.2.3") -> Client:
    """A client that logged in through the real form (so the login is in the audit)."""
    client = Client(REMOTE_ADDR=address)
    page = client.post("/accounts/login/", {"username": user.username, "password": f.PASSWORD})
    assert page.status_code == 302
    return client


@pytest.fixture
def history(uni):
    """The student's library step passed with a note, a message with an attachment, a
    notification and a library source row."""
    handler = services.Actor(uni.library, "desk", client_ip="10.9.9.9")
    services.pass_record(handler, record(uni.form, "图书馆").id, "已还清全部图书")
    objections.submit(
        uni.student.user,
        record(uni.form, "学生公寓"),
        "done",
        "宿舍已退",
        upload(name="退宿单.png"),
    )
    notify.send([uni.student.user_id], "图书馆已办理", "您的图书馆环节已办理")
    library_row(uni.student.student_number, cleared=True, reason="")
    library_row(uni.student_lit.student_number, reason="未还图书 9 册")  # somebody else's
    notify.send([uni.student_lit.user_id], "林同学的通知")


def download(client, fmt):
    return client.post(f"/me/account/data.{fmt}")


def test_json_holds_everything_about_me_and_nothing_else(uni, history):
    client = logged_in(uni.student.user)
    response = download(client, "json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="lixiao-2022000001-')
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    profile = data["profile"]
    assert (profile["name"], profile["student_number"]) == ("陈同学", "2022000001")
    assert profile["id_number_masked"] == uni.student.id_number_masked
    assert profile["political_status"] == "中共党员"
    (form,) = data["forms"]
    assert form["batch"] == uni.batch.name
    steps = {s["step"]: s for s in form["steps"]}
    assert len(steps) == uni.form.records.count()
    library = steps["图书馆"]
    assert library["state_label"] == "已办理" and library["note"] == "已还清全部图书"
    assert [(h["from"], h["to"], h["note"]) for h in library["history"]] == [
        ("未办理", "已办理", "已还清全部图书")
    ]
    assert steps["组织关系转移"]["state"] == "pending"  # a party member: this step applies
    (message,) = data["messages"]
    assert message["message"] == "宿舍已退" and message["attachment"]["name"] == "退宿单.png"
    titles = [n["title"] for n in data["notifications"]]
    assert "图书馆已办理" in titles and "林同学的通知" not in titles
    assert [(e["action"], e["client_ip"]) for e in data["logins"]] == [("登录成功", "10.1.2.3")]
    assert data["integration_data"][0]["source"] and data["integration_data"][0]["cleared"]
    # Nobody else's data, and never the full ID number.
    text = response.content.decode()
    for other in ("林同学", "2022000003", "周同学", "未还图书 9 册", f.id_number(1)):
        assert other not in text


def test_excel_has_a_sheet_per_kind_of_data(uni, history):
    client = logged_in(uni.student.user)
    response = download(client, "xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == [
        "个人信息", "离校单", "环节状态", "办理记录", "留言与附件", "预约", "调查问卷", "通知",
        "登录记录", "集成表数据",
    ]  # fmt: skip
    sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    facts = dict((row[0], row[1]) for row in sheets["个人信息"][1:])
    assert facts["学号"] == "2022000001" and facts["身份证件号（脱敏）"].endswith("*" * 12)
    assert len(sheets["环节状态"]) - 1 == uni.form.records.count()
    assert ["图书馆", "已办理"] == [sheets["办理记录"][1][1], sheets["办理记录"][1][5]]
    assert sheets["留言与附件"][1][3] == "宿舍已退" and sheets["留言与附件"][1][8] == "退宿单.png"
    assert sheets["登录记录"][1][1] == "登录成功"
    cells = " ".join(str(c) for rows in sheets.values() for row in rows for c in row)
    assert f.id_number(1) not in cells and "林同学" not in cells


def test_every_download_is_audited_and_shown_among_my_logins(uni, history):
    client = logged_in(uni.student.user)
    download(client, "json")
    download(client, "xlsx")
    events = Event.objects.filter(action="portal.own_data.downloaded").order_by("id")
    assert [(e.actor_id, e.data["format"], e.client_ip) for e in events] == [
        (uni.student.user_id, "json", "10.1.2.3"),
        (uni.student.user_id, "xlsx", "10.1.2.3"),
    ]
    page = client.get("/me/account/").content.decode()
    assert "下载个人数据" in page and "登录成功" in page and "10.1.2.3" in page
    assert uni.student.id_number_masked in page and f.id_number(1) not in page


def test_only_students_and_only_by_a_form_post(uni):
    staff = Client()
    staff.force_login(uni.library)
    assert staff.get("/me/account/").status_code == 403
    assert staff.post("/me/account/data.json").status_code == 403
    anonymous = Client()
    assert anonymous.post("/me/account/data.json")["Location"].startswith("/accounts/login/")
    student = Client()
    student.force_login(uni.student.user)
    assert student.get("/me/account/data.json").status_code == 405  # a link cannot start it
    assert student.post("/me/account/data.csv").status_code == 404
    # Nothing in the request chooses whose data: another student's number is ignored.
    response = student.post(
        "/me/account/data.json?student=2022000003", {"user": uni.student_lit.user_id}
    )
    assert json.loads(response.content)["profile"]["student_number"] == "2022000001"
    assert not Event.objects.filter(action="portal.own_data.downloaded", actor=uni.student_lit.user)


def test_csrf_is_checked_like_every_form(uni):
    client = Client(enforce_csrf_checks=True)
    client.force_login(uni.student.user)
    assert client.post("/me/account/data.json").status_code == 403
    assert not Event.objects.filter(action="portal.own_data.downloaded").exists()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert download(client, "json").status_code == 200
    return len(queries)


def test_the_download_reads_in_fixed_queries(uni, history):
    client = logged_in(uni.student.user)
    client.get("/me/account/")  # the first request after a login also refreshes the session
    small = _queries(client)
    # A second batch, more messages, notifications and logins: the same number of queries.
    other = f.batch(uni.category, name="2027届本科生离校")
    f.enrol(other, [uni.student], counselor=uni.counselor_cs)
    objections.submit(uni.student.user, record(uni.form, "财务处"), "objection", "我没有欠费")
    notify.send([uni.student.user_id], "第二条通知")
    logged_in(uni.student.user)
    assert _queries(client) == small


def test_account_page_in_english_the_file_stays_chinese(uni, history):
    client = logged_in(uni.student.user)
    client.cookies["django_language"] = "en"
    page = client.get("/me/account/").content.decode()
    assert "My account and data" in page and "Download Excel" in page
    data = json.loads(download(client, "json").content)
    assert data["forms"][0]["steps"][0]["state_label"] in ("未办理", "已办理", "无需办理")


def test_the_form_page_links_to_the_account_page(uni):
    client = Client()
    client.force_login(uni.student.user)
    assert 'href="/me/account/"' in client.get("/me/").content.decode()


def test_the_account_page_reads_in_fixed_queries(uni):
    client = logged_in(uni.student.user)
    client.get("/me/account/")  # the session refresh after login is not the page's

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/me/account/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(12):  # more logins than the page shows
        logged_in(uni.student.user)
    assert count() == few


def test_failed_logins_on_my_account_are_mine_to_see(uni):
    Client(REMOTE_ADDR="10.6.6.6").post(
        "/accounts/login/", {"username": uni.student.user.username, "password": "wrong-guess"}
    )
    Client(REMOTE_ADDR="10.7.7.7").post(
        "/accounts/login/", {"username": uni.student_lit.user.username, "password": "wrong-guess"}
    )
    client = logged_in(uni.student.user)
    actions = [
        (e["action"], e["client_ip"])
        for e in json.loads(download(client, "json").content)["logins"]
    ]
    assert actions == [("登录成功", "10.1.2.3"), ("登录失败", "10.6.6.6")]  # newest first
