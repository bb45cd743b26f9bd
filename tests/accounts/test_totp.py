"""TOTP second factor for staff: enrolment, the code step of a login, lockout, replay, the
office's requirement (LIXIAO_OFFICE_TOTP) and its lost-phone reset, secrets sealed at rest."""

import re
import time

import pyotp
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from lixiao.accounts import totp
from lixiao.accounts.models import TOTPDevice
from lixiao.clearance.models import Event
from tests import factories as f

pytestmark = pytest.mark.django_db

STEP = 30
# A fixed instant in the middle of a 30-second step: no test lands on a step boundary.
T0 = 1_900_000_005.0


@pytest.fixture
def clock(monkeypatch):
    """The second factor's clock, set by the test (the session clock stays real)."""
    now = {"t": T0}
    monkeypatch.setattr(totp, "_clock", lambda: now["t"])
    return now


def code_at(secret: str, t: float) -> str:
    return pyotp.TOTP(secret).at(t)


def wrong_code(secret: str, t: float) -> str:
    """Six digits that are no code of the steps around t."""
    near = {code_at(secret, t + k * STEP) for k in range(-2, 3)}
    return next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near
    )


def login(client, username, password=f.PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def enrolled(user) -> str:
    """Turn the second factor on for `user` directly; returns the secret."""
    secret = pyotp.random_base32()
    totp.enable(user, secret, step=0)
    return secret


def send_code(client, code, **extra):
    return client.post("/accounts/login/code/", {"code": code}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# ---- enrolment --------------------------------------------------------------------------------


def secret_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "the secret for manual entry is not on the page"
    return match.group(1).replace(" ", "")


def test_enrolment_shows_qr_and_secret_and_needs_a_right_code(uni, client, clock):
    login(client, "L2001")
    page = client.get("/accounts/totp/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "双因素认证二维码" in html
    secret = secret_on_page(html)
    assert len(secret) == 32
    assert re.search(r'id="totp-secret">([A-Z2-7]{4} ){7}[A-Z2-7]{4}<', html)  # groups of four
    assert "Lixiao 离校" in html and "L2001" in html
    # Reloading keeps the same secret (the app may already have scanned it).
    assert secret_on_page(client.get("/accounts/totp/").content.decode()) == secret
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]

    wrong = client.post("/accounts/totp/", {"code": wrong_code(secret, T0)})
    assert wrong.status_code == 200
    assert "验证码不正确" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=uni.library).exists()
    # The same secret is offered again after a wrong code.
    assert secret_on_page(wrong.content.decode()) == secret

    right = client.post("/accounts/totp/", {"code": code_at(secret, T0)})
    assert right.status_code == 302
    device = TOTPDevice.objects.get(user=uni.library)
    assert totp.unseal(device.secret_enc, uni.library.pk) == secret
    assert device.last_step == int(T0 // STEP)  # the confirming code is used up
    assert Event.objects.filter(action="accounts.totp.enabled", actor=uni.library).count() == 1
    assert totp.SETUP_KEY not in client.session
    # Now the page shows that it is on, and how to turn it off.
    status = client.get("/accounts/totp/").content.decode()
    assert "已开启" in status and "关闭双因素认证" in status and "<svg" not in status


def test_the_provisioning_uri_names_issuer_and_account():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "A0001")
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "Lixiao 离校" and parsed.name == "A0001"
    assert uri.startswith("otpauth://totp/Lixiao%20%E7%A6%BB%E6%A0%A1:A0001?")


def test_students_cannot_enrol(uni, client):
    login(client, uni.student.student_number)
    assert client.get("/accounts/totp/").status_code == 403
    assert client.post("/accounts/totp/", {"code": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()
    # And the password page offers it to staff only.
    assert "/accounts/totp/" not in client.get("/accounts/password/").content.decode()
    client.post("/accounts/logout/")
    login(client, "L2001")
    assert "/accounts/totp/" in client.get("/accounts/password/").content.decode()


def test_enrolment_needs_a_login(client):
    response = client.get("/accounts/totp/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_secret_is_not_stored_in_clear(uni, client, clock):
    login(client, "L2001")
    secret = secret_on_page(client.get("/accounts/totp/").content.decode())
    # While enrolling, the session row holds it sealed only.
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        sessions = " ".join(row[0] for row in cursor.fetchall())
    assert secret not in sessions
    client.post("/accounts/totp/", {"code": code_at(secret, T0)})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_enc FROM accounts_totpdevice WHERE user_id = %s", [uni.library.pk]
        )
        (raw,) = cursor.fetchone()
    assert raw and secret not in raw and secret.lower() not in raw.lower()
    # Sealed for this account: another account's id does not open it.
    with pytest.raises(Exception):  # noqa: B017 (cryptography's InvalidTag)
        totp.unseal(raw, uni.finance.pk)
    assert totp.unseal(raw, uni.library.pk) == secret
    # Nor does any audit event carry it.
    assert secret not in str(list(Event.objects.values()))


# ---- login with the second factor -------------------------------------------------------------


def test_password_alone_does_not_log_in_then_the_code_does(uni, client, clock):
    secret = enrolled(uni.library)
    response = login(client, "L2001")
    assert response.status_code == 302 and response.url == "/accounts/login/code/"
    assert not logged_in(client)
    # Nothing else opens meanwhile.
    assert client.get("/desk/").status_code == 302 and not logged_in(client)
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200 and "验证码" in page.content.decode()

    done = send_code(client, code_at(secret, T0))
    assert done.status_code == 302
    assert logged_in(client) and int(client.session["_auth_user_id"]) == uni.library.pk
    assert client.get(done.url, follow=True).request["PATH_INFO"] == "/desk/"
    succeeded = Event.objects.get(action="accounts.login.succeeded")
    assert succeeded.actor_id == uni.library.pk and succeeded.data == {"factor": "totp"}
    assert totp.PENDING_KEY not in client.session


def test_wrong_code_is_refused_counted_and_audited(uni, client, clock):
    secret = enrolled(uni.library)
    login(client, "L2001", REMOTE_ADDR="10.1.1.1")
    response = send_code(client, wrong_code(secret, T0), REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not logged_in(client)
    failed = Event.objects.get(action="accounts.login.failed")
    assert failed.data == {"username": "L2001", "factor": "totp"}
    assert failed.client_ip == "10.1.1.1"
    attempt = AccessAttempt.objects.get(username="L2001", ip_address="10.1.1.1")
    assert attempt.failures_since_start == 1
    assert wrong_code(secret, T0) not in attempt.post_data  # axes masks the code field
    # The pending login stays: the right code still works.
    assert send_code(client, code_at(secret, T0), REMOTE_ADDR="10.1.1.1").status_code == 302
    assert logged_in(client)
    # A success resets the count, as for passwords.
    assert not AccessAttempt.objects.filter(username="L2001").exists()


def test_not_six_digits_counts_as_a_wrong_code(uni, client, clock):
    enrolled(uni.library)
    login(client, "L2001")
    response = send_code(client, "12ab")
    assert response.status_code == 200 and "请输入 6 位数字验证码" in response.content.decode()
    assert Event.objects.filter(action="accounts.login.failed").count() == 1


def test_wrong_codes_lock_like_wrong_passwords(uni, client, clock):
    secret = enrolled(uni.library)
    bad = wrong_code(secret, T0)
    # Two wrong passwords and then wrong codes: one count for username + address.
    for _ in range(2):
        assert login(client, "L2001", "wrong-Pass-1").status_code == 200
    login(client, "L2001")
    responses = [send_code(client, bad) for _ in range(settings.AXES_FAILURE_LIMIT - 2)]
    assert [r.status_code for r in responses[:-1]] == [200] * (len(responses) - 1)
    assert responses[-1].status_code == 429
    assert "登录失败次数过多" in responses[-1].content.decode()
    assert not logged_in(client)
    # Locked: the pending login is gone, and even the right password is refused now …
    assert client.get("/accounts/login/code/").status_code == 302
    assert login(client, "L2001").status_code == 429
    # … while the same account from another address is not locked.
    other = Client()
    assert login(other, "L2001", REMOTE_ADDR="10.9.9.9").status_code == 302


def test_a_locked_account_cannot_use_a_pending_code_step(uni, client, clock):
    secret = enrolled(uni.library)
    login(client, "L2001")  # the password passed: the code step waits
    # Meanwhile someone else fails from the same address until the account is locked there.
    other = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(other, "L2001", "wrong-Pass-1")
    response = send_code(client, code_at(secret, T0))
    assert response.status_code == 429
    assert not logged_in(client)


def test_a_code_is_accepted_once(uni, client, clock):
    secret = enrolled(uni.library)
    code = code_at(secret, T0)
    login(client, "L2001")
    assert send_code(client, code).status_code == 302
    client.post("/accounts/logout/")
    login(client, "L2001")
    replay = send_code(client, code)
    assert replay.status_code == 200 and not logged_in(client)
    assert "已使用过" in replay.content.decode()
    # An earlier step's code is refused too, though it is within the drift window.
    assert send_code(client, code_at(secret, T0 - STEP)).status_code == 200
    # The next step's code (the phone's clock a little ahead) is accepted.
    assert send_code(client, code_at(secret, T0 + STEP)).status_code == 302
    assert logged_in(client)


def test_one_step_of_drift_either_way_and_no_more(uni, clock):
    secret = enrolled(uni.library)
    device = TOTPDevice.objects.get(user=uni.library)
    assert not totp.use_code(device, code_at(secret, T0 - 2 * STEP))
    assert totp.use_code(device, code_at(secret, T0 - STEP))
    assert not totp.use_code(device, code_at(secret, T0 + 2 * STEP))
    assert totp.use_code(device, code_at(secret, T0))
    assert totp.use_code(device, code_at(secret, T0 + STEP))
    assert not totp.use_code(device, code_at(secret, T0 + STEP))
    # A stale copy of the device (another request) cannot use a step already taken.
    stale = TOTPDevice.objects.get(pk=device.pk)
    stale.last_step = 0
    clock["t"] = T0 + STEP
    assert not totp.use_code(stale, code_at(secret, T0 + STEP))


def test_the_code_step_expires(uni, client, clock):
    secret = enrolled(uni.library)
    login(client, "L2001")
    session = client.session
    session[totp.PENDING_KEY]["at"] = time.time() - totp.PENDING_SECONDS - 1
    session.save()
    response = send_code(client, code_at(secret, T0))
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert not logged_in(client)
    assert "验证已超时" in client.get(response.url).content.decode()
    # Without a pending login the code page leads back to the login page.
    assert client.get("/accounts/login/code/").url == "/accounts/login/"


def test_next_survives_the_code_step(uni, client, clock):
    secret = enrolled(uni.library)
    response = client.post(
        "/accounts/login/?next=/inbox/",
        {"username": "L2001", "password": f.PASSWORD, "next": "/inbox/"},
    )
    assert response.url == "/accounts/login/code/"
    assert send_code(client, code_at(secret, T0)).url == "/inbox/"


def test_the_code_step_gets_a_new_session_key(uni, client, clock):
    enrolled(uni.library)
    client.get("/accounts/login/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "planted-session-key-0123456789abcdef"
    login(client, "L2001")
    assert (
        client.cookies[settings.SESSION_COOKIE_NAME].value != "planted-session-key-0123456789abcdef"
    )


def test_staff_without_totp_logs_in_with_the_password_alone(uni, client):
    assert login(client, "F3001").status_code == 302 and logged_in(client)


# ---- turning it off ---------------------------------------------------------------------------


def test_turning_it_off_needs_the_password_and_a_code(uni, client, clock):
    secret = enrolled(uni.library)
    login(client, "L2001")
    send_code(client, code_at(secret, T0))
    clock["t"] = T0 + STEP
    wrong_password = client.post(
        "/accounts/totp/disable/", {"password": "Not-It-2026!", "code": code_at(secret, T0 + STEP)}
    )
    assert wrong_password.status_code == 200 and "当前密码不正确" in wrong_password.content.decode()
    bad_code = client.post(
        "/accounts/totp/disable/", {"password": f.PASSWORD, "code": wrong_code(secret, T0 + STEP)}
    )
    assert bad_code.status_code == 200 and "验证码不正确" in bad_code.content.decode()
    assert TOTPDevice.objects.filter(user=uni.library).exists()
    assert client.get("/accounts/totp/disable/").status_code == 405
    done = client.post(
        "/accounts/totp/disable/", {"password": f.PASSWORD, "code": code_at(secret, T0 + STEP)}
    )
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=uni.library).exists()
    assert Event.objects.filter(action="accounts.totp.disabled", actor=uni.library).count() == 1


# ---- the office: required when configured -----------------------------------------------------


def test_office_must_enrol_when_configured(uni, client, clock, settings):
    settings.LIXIAO_OFFICE_TOTP = True
    response = login(client, "A0001")
    assert response.status_code == 302 and logged_in(client)
    for path in (
        "/",
        "/console/",
        "/desk/",
        "/accounts/role/",
        "/accounts/password/",
        "/accounts/totp/staff/",
        "/inbox/",
    ):
        page = client.get(path)
        assert page.status_code == 302 and page.url == "/accounts/totp/", path
    htmx = client.get("/inbox/bell/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == "/accounts/totp/"
    page = client.get("/accounts/totp/")
    html = page.content.decode()
    assert page.status_code == 200 and "管理员账号须开启双因素认证" in html
    assert 'hx-trigger="load"' not in html  # no bell that would only be redirected
    secret = secret_on_page(html)
    assert client.post("/accounts/totp/", {"code": code_at(secret, T0)}).status_code == 302
    assert client.get("/console/").status_code == 200
    # From now on the office's login needs the code.
    client.post("/accounts/logout/")
    assert login(client, "A0001").url == "/accounts/login/code/"
    assert send_code(client, code_at(secret, T0 + STEP)).status_code == 302


def test_office_is_not_forced_when_not_configured(uni, client, settings):
    settings.LIXIAO_OFFICE_TOTP = False
    login(client, "A0001")
    assert client.get("/console/").status_code == 200


def test_other_staff_are_not_forced_even_when_configured(uni, client, settings):
    settings.LIXIAO_OFFICE_TOTP = True
    login(client, "L2001")
    assert client.get("/desk/").status_code == 200


def test_setting_defaults_to_off():
    from lixiao import settings as project

    assert project.LIXIAO_OFFICE_TOTP is False


# ---- the office: lost phone -------------------------------------------------------------------


def test_office_resets_a_lost_phone_and_it_is_audited(uni, client, clock):
    enrolled(uni.library)
    login(client, "A0001")
    listing = client.get("/accounts/totp/staff/")
    assert listing.status_code == 200 and "L2001" in listing.content.decode()
    assert "L2001" in client.get("/accounts/totp/staff/?q=图书馆").content.decode()
    assert "L2001" not in client.get("/accounts/totp/staff/?q=F3001").content.decode()
    response = client.post(f"/accounts/totp/staff/{uni.library.pk}/reset/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=uni.library).exists()
    event = Event.objects.get(action="accounts.totp.reset")
    assert event.actor_id == uni.office.pk
    assert event.data == {"user_id": uni.library.pk, "username": "L2001"}
    assert event.client_ip == "127.0.0.1"
    # The person logs in with the password alone again.
    other = Client()
    assert login(other, "L2001").status_code == 302 and logged_in(other)


def test_reset_is_refused_for_everyone_but_the_office(uni, client):
    enrolled(uni.library)
    auditor = f.staff("U0001", "审计员", is_auditor=True)
    url = f"/accounts/totp/staff/{uni.library.pk}/reset/"
    for username in ("D4001", auditor.username, uni.student.student_number):
        login(client, username)
        assert logged_in(client), username
        assert client.post(url).status_code == 403, username
        assert client.get("/accounts/totp/staff/").status_code == 403, username
        client.post("/accounts/logout/")
    anonymous = Client()
    response = anonymous.post(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert TOTPDevice.objects.filter(user=uni.library).exists()
    assert not Event.objects.filter(action="accounts.totp.reset").exists()


def test_reset_needs_post_and_the_csrf_token(uni):
    enrolled(uni.library)
    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/accounts/login/")
    token = login_page.cookies["csrftoken"].value
    client.post(
        "/accounts/login/",
        {"username": "A0001", "password": f.PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert logged_in(client)
    url = f"/accounts/totp/staff/{uni.library.pk}/reset/"
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no token
    assert TOTPDevice.objects.filter(user=uni.library).exists()
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert not TOTPDevice.objects.filter(user=uni.library).exists()


def test_the_office_cannot_reset_its_own(uni, client, clock):
    secret = enrolled(uni.office)
    login(client, "A0001")
    send_code(client, code_at(secret, T0))
    response = client.post(f"/accounts/totp/staff/{uni.office.pk}/reset/", follow=True)
    assert "不能重置自己的双因素认证" in response.content.decode()
    assert TOTPDevice.objects.filter(user=uni.office).exists()


def test_the_staff_edit_page_links_to_the_reset(uni, client):
    from lixiao.directory.models import Staff

    login(client, "A0001")
    staff = Staff.objects.get(user=uni.library)
    html = client.get(f"/console/masterdata/staff/{staff.pk}/edit/").content.decode()
    assert "/accounts/totp/staff/?q=L2001" in html and "重置双因素认证" in html


@pytest.fixture
def back_to_chinese():
    """A request in English leaves English active in this thread (LocaleMiddleware activates,
    nothing deactivates): later tests that translate outside a request expect Chinese."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_totp_pages_in_english(uni, client, clock, back_to_chinese):
    secret = enrolled(uni.library)
    login(client, "L2001", HTTP_ACCEPT_LANGUAGE="en")
    html = client.get("/accounts/login/code/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Two-factor authentication" in html and "验证码" not in html
    send_code(client, code_at(secret, T0))
    html = client.get("/accounts/totp/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Turn off two-factor authentication" in html
