"""CAS single sign-on (统一身份认证) against a fake CAS server: a real HTTP server in a thread
that answers serviceValidate (CAS 2) and p3/serviceValidate (CAS 3) with the protocol's XML,
so the whole path (python-cas, requests, the XML) runs as it does in production."""

import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pyotp
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY

from lixiao.accounts import sso, totp
from lixiao.clearance.models import Event
from lixiao.directory.models import User
from tests import factories as f
from tests.test_config import manage, one_line

pytestmark = pytest.mark.django_db

UNKNOWN_MESSAGE = "学号/职工号不在本系统中，请联系学生离校工作主管部门。"
FAILED_MESSAGE = "统一身份认证未通过，请重新登录。"
UNAVAILABLE_MESSAGE = "统一身份认证服务暂时无法使用，请稍后再试或使用密码登录。"
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
    "<cas:user>&lol2;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"
)


class FakeCAS:
    """Tickets it issued: one use each, valid only for the service they were issued for."""

    def __init__(self):
        self.tickets = {}
        self.validations = []  # (path, service) of every validation request received
        self.answer = None  # a raw body to send instead (a broken server)

    def issue(self, user: str, service: str, attributes: dict | None = None) -> str:
        ticket = "ST-" + secrets.token_hex(12)
        self.tickets[ticket] = (user, service, attributes or {})
        return ticket

    def respond(self, ticket: str, service: str) -> str:
        if self.answer is not None:
            return self.answer
        user, issued_for, attributes = self.tickets.pop(ticket, (None, None, None))
        if user is None or issued_for != service:
            return (
                '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
                '<cas:authenticationFailure code="INVALID_TICKET">Ticket not recognized'
                "</cas:authenticationFailure></cas:serviceResponse>"
            )
        attrs = "".join(
            f"<cas:{name}>{escape(value)}</cas:{name}>" for name, value in attributes.items()
        )
        return (
            '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
            f"<cas:authenticationSuccess><cas:user>{escape(user)}</cas:user>"
            f"<cas:attributes>{attrs}</cas:attributes>"
            "</cas:authenticationSuccess></cas:serviceResponse>"
        )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        fake = self.server.fake
        if url.path not in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
            self.send_error(404)
            return
        service = query.get("service", [""])[0]
        fake.validations.append((url.path, service))
        body = fake.respond(query.get("ticket", [""])[0], service).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def cas_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(cas_server, settings):
    cas_server.fake = FakeCAS()
    settings.LIXIAO_CAS_URL = f"http://127.0.0.1:{cas_server.server_address[1]}/cas/"
    settings.LIXIAO_CAS_VERSION = "3"
    settings.LIXIAO_CAS_ATTRIBUTE = ""
    return cas_server.fake


def go_to_cas(client, next_url=None):
    """Our button: returns the service URL the CAS server was given."""
    response = client.get("/accounts/cas/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    location = urlsplit(response.url)
    assert location.path == "/cas/login"
    return parse_qs(location.query)["service"][0]


def come_back(client, service, ticket):
    return client.get(f"{service}&ticket={ticket}")


def cas_login(client, fake, username, next_url="/me/", attributes=None):
    """The whole round trip: button, the CAS server's login, back with a ticket."""
    service = go_to_cas(client, next_url)
    return come_back(client, service, fake.issue(username, service, attributes))


def failures():
    return list(Event.objects.filter(action="accounts.login.failed").values_list("data", flat=True))


def shown_message(client, response) -> str:
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    return client.get(response.url).content.decode()


# --- the login page -------------------------------------------------------------------------


def test_button_absent_and_urls_404_when_cas_is_off(client, settings):
    settings.LIXIAO_CAS_URL = ""
    assert "统一身份认证登录" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/cas/login/").status_code == 404
    assert client.get("/accounts/cas/callback/?ticket=ST-1&state=x").status_code == 404


def test_button_shown_when_cas_is_on_and_keeps_next(client, fake):
    html = client.get("/accounts/login/?next=/me/").content.decode()
    assert "统一身份认证登录" in html
    assert 'href="/accounts/cas/login/?next=/me/"' in html


def test_service_is_our_absolute_callback_with_next(client, fake):
    service = go_to_cas(client, "/me/")
    url = urlsplit(service)
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver", "/accounts/cas/callback/")
    query = parse_qs(url.query)
    assert query["next"] == ["/me/"] and query["state"][0]


# --- success ----------------------------------------------------------------------------------


def test_student_logs_in_and_lands_on_next(uni, client, fake):
    response = cas_login(client, fake, uni.student.user.username, "/me/")
    assert response.status_code == 302 and response.url == "/me/"
    assert client.get("/me/").status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == sso.BACKEND
    assert "lixiao_login_at" in client.session  # the same session rules as a password login
    event = Event.objects.get(action="accounts.login.succeeded")
    assert event.actor == uni.student.user and event.data == {"method": "cas"}
    # validated with CAS 3 at p3/serviceValidate, for exactly the service the login sent
    assert [path for path, _ in fake.validations] == ["/cas/p3/serviceValidate"]


def test_staff_member_logs_in_with_cas_2(uni, client, fake, settings):
    settings.LIXIAO_CAS_VERSION = "2"
    response = cas_login(client, fake, uni.library.username, None)
    assert response.status_code == 302 and response.url == "/accounts/"
    assert client.get("/desk/").status_code == 200
    assert [path for path, _ in fake.validations] == ["/cas/serviceValidate"]


def test_username_from_an_attribute(uni, client, fake, settings):
    settings.LIXIAO_CAS_ATTRIBUTE = "employeeNumber"
    response = cas_login(client, fake, "zhang.san", "/desk/", {"employeeNumber": "L2001"})
    assert response.url == "/desk/"
    assert client.get("/desk/").status_code == 200


def test_missing_attribute_is_refused(uni, client, fake, settings):
    settings.LIXIAO_CAS_ATTRIBUTE = "employeeNumber"
    response = cas_login(client, fake, "L2001")
    assert FAILED_MESSAGE in shown_message(client, response)
    assert failures()[-1]["reason"] == "attribute"


def test_cas_login_is_not_forced_to_change_an_initial_password(uni, client, fake):
    newcomer = f.student("2022000099", "吴同学", uni.cs, password=None, seed=9)
    f.enrol(uni.batch, [newcomer], counselor=uni.counselor_cs)
    assert newcomer.user.uses_initial_password
    response = cas_login(client, fake, newcomer.user.username, "/me/")
    assert client.get(response.url).status_code == 200  # not sent to the password change
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and not page.context["forced"]


# --- refusals ---------------------------------------------------------------------------------


def test_unknown_user_is_refused_audited_and_never_created(uni, client, fake):
    response = cas_login(client, fake, "2099999999")
    assert UNKNOWN_MESSAGE in shown_message(client, response)
    assert not User.objects.filter(username="2099999999").exists()
    assert BACKEND_SESSION_KEY not in client.session
    assert failures() == [{"method": "cas", "reason": "unknown", "username": "2099999999"}]


def test_inactive_user_is_refused(uni, client, fake):
    user = uni.student.user
    user.is_active = False
    user.save()
    response = cas_login(client, fake, user.username)
    assert "该账号已停用" in shown_message(client, response)
    assert client.get("/me/").status_code == 302
    assert failures()[-1]["reason"] == "inactive"


def test_bad_ticket_is_refused(uni, client, fake):
    service = go_to_cas(client, "/me/")
    response = come_back(client, service, "ST-forged")
    assert FAILED_MESSAGE in shown_message(client, response)
    assert response.url == "/accounts/login/?next=%2Fme%2F"  # the password login keeps next
    assert failures() == [{"method": "cas", "reason": "ticket"}]


def test_ticket_for_another_service_is_refused(uni, client, fake):
    service = go_to_cas(client)
    ticket = fake.issue(uni.student.user.username, "https://elsewhere.example/")
    assert FAILED_MESSAGE in shown_message(client, come_back(client, service, ticket))


def test_ticket_is_used_once(uni, client, fake, settings):
    service = go_to_cas(client)
    ticket = fake.issue(uni.student.user.username, service)
    assert come_back(client, service, ticket).url == "/accounts/"
    client.post("/accounts/logout/")
    again = come_back(client, service, ticket)  # the state was spent with the first login
    assert FAILED_MESSAGE in shown_message(client, again)


def test_cas_unreachable_is_a_message_not_a_500(uni, client, fake, settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.LIXIAO_CAS_URL = f"http://127.0.0.1:{port}/cas/"
    response = cas_login(client, fake, uni.student.user.username)
    assert UNAVAILABLE_MESSAGE in shown_message(client, response)
    assert failures() == [{"method": "cas", "reason": "unavailable"}]


def test_cas_that_never_answers_times_out(uni, client, fake, settings, monkeypatch):
    monkeypatch.setattr(sso, "TIMEOUT_SECONDS", 0.3)
    with socket.socket() as silent:  # accepts the connection (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings.LIXIAO_CAS_URL = f"http://127.0.0.1:{silent.getsockname()[1]}/cas/"
        response = cas_login(client, fake, uni.student.user.username)
    assert UNAVAILABLE_MESSAGE in shown_message(client, response)


@pytest.mark.parametrize(
    "answer", ["<html>502 Bad Gateway</html>", "", "not xml at all", BILLION_LAUGHS]
)
def test_garbage_or_entity_answer_is_refused(uni, client, fake, answer):
    fake.answer = answer
    response = cas_login(client, fake, uni.student.user.username)
    assert UNAVAILABLE_MESSAGE in shown_message(client, response)
    assert BACKEND_SESSION_KEY not in client.session


# --- next, state ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outside", ["https://evil.example/", "//evil.example/me/", "/\\evil.example", "me/"]
)
def test_external_next_is_dropped(uni, client, fake, outside):
    service = go_to_cas(client, outside)
    assert "next" not in parse_qs(urlsplit(service).query)
    response = come_back(client, service, fake.issue(uni.student.user.username, service))
    assert response.url == "/accounts/"


def test_external_next_added_on_the_way_back_is_refused(uni, client, fake):
    service = go_to_cas(client, "/me/")
    tampered = service.replace("next=%2Fme%2F", "next=https%3A%2F%2Fevil.example%2F")
    ticket = fake.issue(uni.student.user.username, service)
    response = come_back(client, tampered, ticket)
    assert "evil" not in response.url  # next dropped, so the service no longer matches
    assert BACKEND_SESSION_KEY not in client.session


def test_ticket_from_another_browser_is_never_used(uni, client, fake):
    """Login CSRF: somebody's own ticket sent to a victim's browser logs the victim in as
    nobody: the state belongs to the browser that started the login."""
    attacker = go_to_cas(client)  # the attacker's browser (session) starts a login
    ticket = fake.issue(uni.outsider.username, attacker)
    from django.test import Client

    victim = Client()
    victim.get("/accounts/login/")
    response = come_back(victim, attacker, ticket)
    assert FAILED_MESSAGE in shown_message(victim, response)
    assert fake.validations == []  # the ticket never even reached the server
    assert failures() == [{"method": "cas", "reason": "state"}]


def test_callback_without_state_starts_a_login_here(uni, client, fake):
    """A campus portal linking straight to the callback: the login restarts from here."""
    response = client.get("/accounts/cas/callback/?next=/me/&ticket=ST-from-portal")
    assert response.status_code == 302
    location = urlsplit(response.url)
    assert location.path == "/cas/login"
    service = parse_qs(location.query)["service"][0]
    assert parse_qs(urlsplit(service).query)["next"] == ["/me/"]
    assert fake.validations == []


# --- second factor, logout --------------------------------------------------------------------


def test_totp_user_gets_the_code_step(uni, client, fake):
    secret = pyotp.random_base32()
    totp.enable(uni.office, secret, step=0)
    response = cas_login(client, fake, uni.office.username, "/console/")
    assert response.url == "/accounts/login/code/"
    assert BACKEND_SESSION_KEY not in client.session  # not logged in before the code
    assert client.get("/console/").status_code == 302
    done = client.post("/accounts/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.url == "/console/"
    assert client.session[BACKEND_SESSION_KEY] == sso.BACKEND
    event = Event.objects.get(action="accounts.login.succeeded")
    assert event.data == {"factor": "totp", "method": "cas"}


def test_logout_of_a_cas_session_goes_to_cas_logout(uni, client, fake):
    cas_login(client, fake, uni.student.user.username)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    location = urlsplit(response.url)
    assert location.path == "/cas/logout"
    assert parse_qs(location.query)["service"] == ["http://testserver/accounts/login/"]
    assert client.get("/me/").status_code == 302  # our session ended first
    assert Event.objects.filter(action="accounts.logout").count() == 1


def test_logout_of_a_password_session_stays_here(uni, client, fake):
    client.post("/accounts/login/", {"username": uni.student.user.username, "password": f.PASSWORD})
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response.url == "/accounts/login/"


# --- configuration ----------------------------------------------------------------------------


def test_wrong_cas_version_is_one_line(tmp_path):
    one_line(manage(tmp_path, "check", LIXIAO_CAS_VERSION="4"), "LIXIAO_CAS_VERSION")


def test_plain_http_cas_refused_in_production(tmp_path):
    from tests.test_config import production

    result = manage(
        tmp_path, "check", **production(tmp_path, LIXIAO_CAS_URL="http://cas.example.edu.cn/cas/")
    )
    one_line(result, "LIXIAO_CAS_URL", "https://")
