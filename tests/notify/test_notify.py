"""Notifications: the inbox and bell, email when switched on, and the group-robot webhook with retries."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from lixiao.clearance import services
from lixiao.clearance.models import Source
from lixiao.notify import services as notify
from lixiao.notify.models import Notification, WebhookDelivery
from tests.conftest import record


def test_a_pass_notifies_the_student_once(uni):
    services.pass_record(
        services.Actor(user=uni.library, source=Source.DESK), record(uni.form, "图书馆").id
    )
    note = Notification.objects.get(user=uni.student.user)
    assert "图书馆" in note.body and "未办理 → 已办理" in note.body and note.link == "/me/"
    assert not Notification.objects.filter(user=uni.student_cs2.user).exists()


def test_bell_inbox_and_mark_read(client, uni):
    notify.send([uni.student.user.pk], "图书馆已办理", "请查看离校单")
    notify.send([uni.student.user.pk], "财务处已办理")
    other = notify.send([uni.student_lit.user.pk], "别人的通知")
    assert other == 1
    client.force_login(uni.student.user)
    assert "2" in client.get("/inbox/bell/").content.decode()
    page = client.get("/inbox/").content.decode()
    assert "图书馆已办理" in page and "别人的通知" not in page
    first = Notification.objects.filter(user=uni.student.user).last()
    client.post(f"/inbox/{first.pk}/read/")
    assert notify.unread_count(uni.student.user) == 1
    # Another person's notification id changes nothing.
    theirs = Notification.objects.get(user=uni.student_lit.user)
    client.post(f"/inbox/{theirs.pk}/read/")
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.post("/inbox/read-all/")
    assert notify.unread_count(uni.student.user) == 0
    assert "badge" not in client.get("/inbox/bell/").content.decode()


def test_inbox_needs_a_login(client):
    assert client.get("/inbox/").status_code == 302
    assert client.get("/inbox/bell/").status_code == 302


def test_base_page_loads_the_bell(client, uni):
    client.force_login(uni.student.user)
    assert "/inbox/bell/" in client.get("/me/").content.decode()


def test_email_only_when_switched_on_and_an_address_exists(
    uni, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    uni.student.user.email = "chen@example.edu.cn"
    uni.student.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([uni.student.user.pk, uni.student_lit.user.pk], "提醒", "请尽快办理离校手续")
    assert mail.outbox == []
    settings.LIXIAO_EMAIL_NOTIFICATIONS = True
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([uni.student.user.pk, uni.student_lit.user.pk], "提醒", "请尽快办理离校手续")
    assert [m.to for m in mail.outbox] == [["chen@example.edu.cn"]]
    assert mail.outbox[0].subject == "提醒"


class Robot:
    """A local group robot on 127.0.0.1 that fails the first `failures` requests with HTTP 500."""

    def __init__(self, failures=0):
        self.failures, self.received = failures, []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.received.append(body)
                failed = len(robot.received) <= robot.failures
                self.send_response(500 if failed else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_retries(settings):
    settings.LIXIAO_WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.LIXIAO_WEBHOOK_ATTEMPTS = 3


def test_webhook_retries_after_a_failure_then_delivers(
    uni, settings, fast_retries, django_capture_on_commit_callbacks
):
    with Robot(failures=1) as robot:
        settings.LIXIAO_WEBHOOK_URL = robot.url
        with django_capture_on_commit_callbacks(execute=True):
            notify.send(
                [uni.library.pk], "“院系离校”退回未办理", "3 名学生的前置环节被撤销", webhook=True
            )
    assert len(robot.received) == 2
    assert robot.received[1] == {
        "msgtype": "text",
        "text": {"content": "“院系离校”退回未办理\n3 名学生的前置环节被撤销"},
    }
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.SENT, 2)
    assert "500" in delivery.last_error


def test_webhook_gives_up_and_says_so(
    uni, settings, fast_retries, django_capture_on_commit_callbacks
):
    with Robot(failures=99) as robot:
        settings.LIXIAO_WEBHOOK_URL = robot.url
        with django_capture_on_commit_callbacks(execute=True):
            notify.post_webhook("同步失败")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.FAILED, 3)
    assert len(robot.received) == 3


def test_no_webhook_without_a_url(uni, settings):
    settings.LIXIAO_WEBHOOK_URL = ""
    assert notify.post_webhook("x") is None
    assert not WebhookDelivery.objects.exists()
