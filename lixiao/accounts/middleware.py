"""Session rules every request obeys: absolute lifetime, idle refresh, forced password change,
and (LIXIAO_OFFICE_TOTP) the office's forced second-factor enrolment."""

import time
from functools import cache

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from lixiao.accounts import sso, totp


@cache
def _always_open() -> tuple[str, ...]:
    """Paths a person may reach whatever they still owe (from the URLconf, read once):
    logging out, static files, the public certificate check, the language switch."""
    verify = reverse("verify:verify", args=["x"]).removesuffix("x/")
    return (reverse("accounts:logout"), settings.STATIC_URL, verify, reverse("set_language"))


@cache
def _open_with_initial_password() -> tuple[str, ...]:
    """Besides those, the password page: a person with the initial password must reach it."""
    return (reverse("accounts:password_change"), *_always_open())


def go_to(request, url: str) -> HttpResponse:
    """A redirect; for an htmx request the whole page goes there, not a fragment swapped in."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            # Set at login (signals.logged_in); a session from another login path starts now.
            login_at = request.session.setdefault("lixiao_login_at", now)
            if now - login_at > settings.LIXIAO_SESSION_MAX_HOURS * 3600 or not user.is_active:
                logout(request)  # flushes the session row: it ends on the server too
                return go_to(request, reverse("accounts:login") + "?expired=1")
            # Writing a key marks the session modified, so SessionMiddleware saves it with a
            # new expiry (SESSION_COOKIE_AGE from now): the idle timer restarts. Once a minute
            # is enough and spares a database write on every request.
            if now - request.session.get("lixiao_seen", 0) > 60:
                request.session["lixiao_seen"] = now
            # A CAS login never used the initial password: it is not forced to change it.
            if (
                user.uses_initial_password
                and not request.path.startswith(_open_with_initial_password())
                and not sso.session_is_cas(request)
            ):
                return go_to(request, reverse("accounts:password_change"))
            if user.is_office and totp.office_must_enrol(user):
                # base.html leaves out the header's htmx bell, which would only be redirected.
                request.lixiao_totp_forced = True
                setup = reverse("accounts:totp")
                # While the office must enrol a second factor: only the enrolment page and those.
                if request.path != setup and not request.path.startswith(_always_open()):
                    return go_to(request, setup)
        return self.get_response(request)
