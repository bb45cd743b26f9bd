"""Sessions: new key at login, idle timeout renewed by use, absolute lifetime, logout, disable."""

import time
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from lixiao.directory.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def login(client, username="L2001"):
    response = client.post("/accounts/login/", {"username": username, "password": f.PASSWORD})
    assert response.status_code == 302
    return client.session.session_key


def row(key) -> Session | None:
    return Session.objects.filter(session_key=key).first()


def test_idle_timeout_follows_the_setting():
    assert settings.SESSION_COOKIE_AGE == 30 * 60  # LIXIAO_SESSION_IDLE_MINUTES default
    # Sessions live in the database, so logout and expiry end them on the server.
    engine = import_module(settings.SESSION_ENGINE).SessionStore
    assert issubclass(engine, db.SessionStore)


def test_login_issues_a_new_session_key(uni, client):
    before = client.session
    before["lixiao_probe"] = "anonymous"
    before.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
    after = login(client)
    assert after != before.session_key
    assert row(before.session_key) is None


def test_use_renews_the_idle_expiry_at_most_once_a_minute(uni, client):
    key = login(client)
    session = client.session
    session["lixiao_seen"] = time.time() - 120
    session.save()
    soon = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    response = client.get("/desk/")
    assert response.status_code == 200
    renewed = row(key).expire_date
    assert renewed > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    # Within the minute nothing is written: the expiry stays where it was.
    Session.objects.filter(session_key=key).update(expire_date=soon)
    client.get("/desk/")
    assert row(key).expire_date == soon


def test_idle_session_ends(uni, client):
    key = login(client)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/desk/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_absolute_lifetime_logs_out_with_a_notice(uni, client):
    key = login(client)
    session = client.session
    session["lixiao_login_at"] = time.time() - settings.LIXIAO_SESSION_MAX_HOURS * 3600 - 1
    session.save()
    response = client.get("/desk/")
    assert response.status_code == 302 and response.url == "/accounts/login/?expired=1"
    assert row(key) is None
    notice = client.get(response.url)
    assert "会话已过期，请重新登录" in notice.content.decode()
    assert client.get("/desk/").status_code == 302


def test_within_the_lifetime_the_session_works(uni, client):
    login(client)
    session = client.session
    session["lixiao_login_at"] = time.time() - settings.LIXIAO_SESSION_MAX_HOURS * 3600 + 600
    session.save()
    assert client.get("/desk/").status_code == 200


def test_logout_is_a_post_and_ends_the_session_on_the_server(uni, client):
    key = login(client)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert row(key) is None
    # The old cookie replayed gets nowhere.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get("/desk/").status_code == 302


def test_deactivated_users_session_stops_working(uni, client):
    login(client)
    assert client.get("/desk/").status_code == 200
    User.objects.filter(pk=uni.library.pk).update(is_active=False)
    response = client.get("/desk/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_password_reset_by_the_office_ends_other_sessions(uni, client):
    from lixiao.accounts import passwords

    login(client, "2022000001")
    assert client.get("/me/").status_code == 200
    passwords.reset_to_initial(User.objects.get(pk=uni.student.user.pk))
    assert client.get("/me/").status_code == 302
    assert client.get("/me/").url.startswith("/accounts/login/")


def test_htmx_request_after_expiry_sends_the_whole_page_to_login(uni, client):
    login(client)
    session = client.session
    session["lixiao_login_at"] = time.time() - settings.LIXIAO_SESSION_MAX_HOURS * 3600 - 1
    session.save()
    response = client.get("/desk/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/accounts/login/?expired=1"


def test_login_keeps_the_query_of_the_page_asked_for(client):
    response = client.get("/desk/?batch=3&q=2022")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/desk/%3Fbatch%3D3%26q%3D2022"
