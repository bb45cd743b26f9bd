"""Session rules every request obeys: absolute lifetime, idle refresh, forced password change."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

_OPEN_PREFIXES = ("/accounts/password/", "/accounts/logout/", "/static/", "/verify/", "/i18n/")


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            login_at = request.session.get("lixiao_login_at", now)
            if now - login_at > settings.LIXIAO_SESSION_MAX_HOURS * 3600 or not user.is_active:
                logout(request)
                return redirect("/accounts/login/?expired=1")
            # Refresh the idle timer at most once a minute instead of writing every request.
            if now - request.session.get("lixiao_seen", 0) > 60:
                request.session["lixiao_seen"] = now
            if user.uses_initial_password and not request.path.startswith(_OPEN_PREFIXES):
                return redirect("accounts:password_change")
        return self.get_response(request)
