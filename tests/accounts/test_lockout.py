"""Lockout on username + client address (django-axes) with a finite cool-off and our own page."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from lixiao.accounts.views import locked_out
from tests import factories as f

pytestmark = pytest.mark.django_db


def attempt(client, username, password, ip="10.1.1.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def lock(client, username="L2001", ip="10.1.1.1"):
    responses = [
        attempt(client, username, "wrong-Pass-1", ip) for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    return responses[-1]


def test_axes_settings_fit_django_axes_8():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert isinstance(settings.AXES_COOLOFF_TIME, timedelta)
    assert timedelta(0) < settings.AXES_COOLOFF_TIME < timedelta(days=1)
    assert settings.AXES_RESET_ON_SUCCESS


def test_failures_below_the_limit_still_show_the_login_form(uni, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = attempt(client, "L2001", "wrong-Pass-1")
        assert response.status_code == 200
    assert attempt(client, "L2001", f.PASSWORD).status_code == 302


def test_repeated_failures_lock_with_our_page_and_cool_off(uni, client):
    response = lock(client)
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多" in html and "15 分钟后再试" in html
    # Even the right password is refused while locked.
    again = attempt(client, "L2001", f.PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lock_is_per_username_and_address(uni, client):
    lock(client, "L2001", "10.1.1.1")
    # Campus NAT: another student behind the same address still logs in …
    assert attempt(client, "F3001", f.PASSWORD, "10.1.1.1").status_code == 302
    client.post("/accounts/logout/")
    # … and the same person from another address too.
    assert attempt(client, "L2001", f.PASSWORD, "10.2.2.2").status_code == 302


def test_lock_ends_after_the_cool_off(uni, client):
    lock(client)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    )
    assert attempt(client, "L2001", f.PASSWORD).status_code == 302


def test_success_resets_the_failure_count(uni, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "L2001", "wrong-Pass-1")
    assert attempt(client, "L2001", f.PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "L2001", "wrong-Pass-1").status_code == 200


def test_lockout_callable_takes_axes_8_arguments(rf):
    request = rf.post("/accounts/login/")
    response = locked_out(request, None, {"username": "L2001"})
    assert response.status_code == 429
    assert "分钟后再试" in response.content.decode()


def test_locked_attempts_are_audited_as_failures_without_password(uni, client):
    from lixiao.clearance.models import Event

    lock(client)
    attempt(client, "L2001", "Another-Guess-9")
    failures = Event.objects.filter(action="accounts.login.failed")
    assert failures.count() == settings.AXES_FAILURE_LIMIT + 1
    assert all(e.data == {"username": "L2001"} for e in failures)
    # django-axes' own record of the attempts keeps no password either.
    assert "wrong-Pass-1" not in str(list(AccessAttempt.objects.values()))
    assert "Another-Guess-9" not in str(list(AccessAttempt.objects.values()))


def test_behind_a_proxy_the_forwarded_address_counts(uni, client, settings):
    """With LIXIAO_PROXY_COUNT=1 every request comes from the proxy; the lock follows the client."""
    settings.LIXIAO_PROXY_COUNT = 1

    def via_proxy(password, forwarded):
        return client.post(
            "/accounts/login/",
            {"username": "L2001", "password": password},
            REMOTE_ADDR="192.168.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(settings.AXES_FAILURE_LIMIT):
        via_proxy("wrong-Pass-1", "1.2.3.4")
    assert via_proxy(f.PASSWORD, "1.2.3.4").status_code == 429
    # A client-made X-Forwarded-For prefix cannot dodge the lock …
    assert via_proxy(f.PASSWORD, "9.9.9.9, 1.2.3.4").status_code == 429
    # … while the same person at another address behind the same proxy logs in.
    assert via_proxy(f.PASSWORD, "5.6.7.8").status_code == 302
    from lixiao.clearance.models import Event

    assert Event.objects.filter(action="accounts.login.failed", client_ip="1.2.3.4").exists()
    assert Event.objects.get(action="accounts.login.succeeded").client_ip == "5.6.7.8"
