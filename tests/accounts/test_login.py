"""Login with 学号/职工号, the initial password and its forced change, login audit."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.utils import timezone

from lixiao.clearance.models import Event
from lixiao.directory import idnumbers
from lixiao.directory.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Qiu-Shi-2026!"


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


@pytest.fixture
def newcomer(uni):
    """A student just imported from a roster: no password set, initial password in force."""
    s = f.student("2022000099", "吴同学", uni.cs, password=None, seed=9)
    f.enrol(uni.batch, [s], counselor=uni.counselor_cs)
    return s


def initial_password(student) -> str:
    return idnumbers.initial_password(f.id_number(9))


def test_login_page_has_the_two_fields(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "初始密码" in html


def test_staff_logs_in_and_lands_on_home(uni, client):
    response = login(client, "L2001", f.PASSWORD)
    assert response.status_code == 302
    assert client.get(response.url, follow=True).request["PATH_INFO"] == "/desk/"


def test_wrong_password_says_what_the_initial_password_is(uni, client):
    response = login(client, "2022000001", "wrong-password")
    assert response.status_code == 200
    assert "学号/职工号或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unknown_username_gets_the_same_message(uni, client):
    response = login(client, "nobody", "whatever-1A")
    assert "学号/职工号或密码不正确" in response.content.decode()


def test_deactivated_account_cannot_log_in(uni, client):
    User.objects.filter(pk=uni.library.pk).update(is_active=False)
    response = login(client, "L2001", f.PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_new_student_logs_in_with_initial_password_and_must_change_it(newcomer, client):
    user = newcomer.user
    assert user.uses_initial_password
    response = login(client, "2022000099", initial_password(newcomer))
    assert response.status_code == 302
    # Every page now leads to the change-password page …
    for path in ("/", "/me/", "/desk/", "/console/", "/accounts/role/", "/api/v1/health"):
        page = client.get(path)
        assert page.status_code == 302 and page.url == "/accounts/password/", path
    forced = client.get("/accounts/password/")
    assert forced.status_code == 200
    assert "您仍在使用初始密码" in forced.content.decode()


def test_initial_password_ending_in_x_is_typed_upper_case(uni, client):
    s = f.student("2022000098", "郑同学", uni.cs, password=None, seed=2)
    first17 = "11010119900307109"
    id_number = first17 + idnumbers.check_digit(first17)
    assert id_number.endswith("X")
    s.set_id_number(id_number.lower())
    s.save()
    assert login(client, "2022000098", id_number[-6:].lower()).status_code == 200
    assert login(client, "2022000098", id_number[-6:]).status_code == 302


def test_forced_change_leaves_logout_and_static_open(newcomer, client):
    login(client, "2022000099", initial_password(newcomer))
    assert client.get("/static/lixiao/lixiao.css").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_changing_the_initial_password_needs_it_and_leads_home(newcomer, client):
    login(client, "2022000099", initial_password(newcomer))
    wrong = client.post(
        "/accounts/password/", {"current": "000000", "new1": NEW_PASSWORD, "new2": NEW_PASSWORD}
    )
    assert wrong.status_code == 200 and "当前密码不正确" in wrong.content.decode()
    done = client.post(
        "/accounts/password/",
        {"current": initial_password(newcomer), "new1": NEW_PASSWORD, "new2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert client.get(done.url, follow=True).request["PATH_INFO"] == "/me/"
    user = User.objects.get(pk=newcomer.user.pk)
    assert not user.uses_initial_password
    # Still logged in after the change, and the new password is what works from now on.
    assert client.get("/me/").status_code == 200
    client.post("/accounts/logout/")
    assert login(client, "2022000099", initial_password(newcomer)).status_code == 200
    assert login(client, "2022000099", NEW_PASSWORD).status_code == 302


def test_mismatched_new_passwords_are_refused(newcomer, client):
    login(client, "2022000099", initial_password(newcomer))
    response = client.post(
        "/accounts/password/",
        {"current": initial_password(newcomer), "new1": NEW_PASSWORD, "new2": NEW_PASSWORD + "x"},
    )
    assert "两次输入的新密码不一致" in response.content.decode()
    assert User.objects.get(pk=newcomer.user.pk).uses_initial_password


def test_unused_initial_password_expires(newcomer, client, settings):
    settings.LIXIAO_INITIAL_PASSWORD_DAYS = 30
    User.objects.filter(pk=newcomer.user.pk).update(
        initial_password_since=timezone.now() - timedelta(days=31)
    )
    response = login(client, "2022000099", initial_password(newcomer))
    assert response.status_code == 200
    assert "初始密码已过期，请联系学生离校工作主管部门" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_initial_password_within_its_days_still_works(newcomer, client, settings):
    settings.LIXIAO_INITIAL_PASSWORD_DAYS = 30
    User.objects.filter(pk=newcomer.user.pk).update(
        initial_password_since=timezone.now() - timedelta(days=29)
    )
    assert login(client, "2022000099", initial_password(newcomer)).status_code == 302


def test_production_hasher_is_argon2id_at_owasp_parameters(settings, uni):
    from django.conf import settings as live

    from lixiao import settings as project

    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS
    user = User.objects.get(pk=uni.library.pk)
    user.set_password(NEW_PASSWORD)
    assert identify_hasher(user.password).algorithm == "argon2"
    # m=19 MiB, t=2, p=1 — OWASP's Argon2id guidance (lixiao/accounts/hashers.py says why).
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert live.PASSWORD_HASHERS == project.PASSWORD_HASHERS


@pytest.mark.parametrize(
    "older",
    [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ],
)
def test_an_older_hash_still_logs_in_and_is_upgraded_at_that_login(settings, uni, client, older):
    from lixiao import settings as project

    settings.PASSWORD_HASHERS = [older]
    user = User.objects.get(pk=uni.library.pk)
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])
    before = user.password
    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS
    assert login(client, "L2001", NEW_PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password != before
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    client.post("/accounts/logout/")
    assert login(client, "L2001", NEW_PASSWORD).status_code == 302  # the new hash verifies


def test_login_success_and_failure_are_audited_without_the_password(uni, client):
    login(client, "L2001", "Secret-Guess-42")
    failed = Event.objects.get(action="accounts.login.failed")
    assert failed.data["username"] == "L2001"
    assert failed.client_ip == "127.0.0.1"
    assert "Secret-Guess-42" not in str(failed.data) and "Secret-Guess-42" not in failed.note
    login(client, "L2001", f.PASSWORD)
    succeeded = Event.objects.get(action="accounts.login.succeeded")
    assert succeeded.actor_id == uni.library.pk
    client.post("/accounts/logout/")
    assert Event.objects.filter(action="accounts.logout", actor=uni.library).count() == 1


def test_next_parameter_is_followed_after_login(uni, client):
    response = client.post(
        "/accounts/login/?next=/desk/",
        {"username": "L2001", "password": f.PASSWORD, "next": "/desk/"},
    )
    assert response.status_code == 302 and response.url == "/desk/"


def test_next_parameter_cannot_leave_the_site(uni, client):
    response = client.post(
        "/accounts/login/",
        {"username": "L2001", "password": f.PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and "evil.example" not in response.url
