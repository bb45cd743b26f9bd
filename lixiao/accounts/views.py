"""Login, logout, password change, role choice and the landing redirect."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from lixiao.accounts import passwords, sso, totp
from lixiao.accounts import roles as role_mod
from lixiao.accounts.forms import LoginForm, PasswordChangeForm
from lixiao.accounts.network import client_ip
from lixiao.clearance import services


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """With a second factor on, the password alone logs nobody in: the code step follows."""
        user = form.get_user()
        if totp.enabled(user):
            totp.start_pending(self.request, user, self.get_success_url())
            return redirect("accounts:totp_verify")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cas_enabled"] = sso.enabled()
        return context


class LogoutView(auth_views.LogoutView):
    """Logging out of a session that CAS opened also logs out of CAS, which then sends the
    browser back to our login page: otherwise the next CAS login would need no password."""

    def post(self, request, *args, **kwargs):
        via_cas = sso.session_is_cas(request)
        response = super().post(request, *args, **kwargs)  # ends our session first
        if via_cas and sso.enabled():
            return redirect(sso.logout_url(request))
        return response


# --- CAS single sign-on (统一身份认证) ------------------------------------------------------------


def _local_next(request) -> str:
    """next= when it is a path on this site, else nothing (never another host)."""
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts=None, require_https=request.is_secure()
    ):
        return target
    return ""


def _login_page(next_url: str):
    url = reverse("accounts:login")
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


def _cas_refused(request, next_url: str, reason: str, message: str, username: str = ""):
    """Back to the login page with the message; the refusal is a failed login in the audit."""
    data = {"method": "cas", "reason": reason}
    if username:
        data["username"] = username[:64]
    actor = services.Actor(user=None, source="", client_ip=client_ip(request))
    services.log(actor, "accounts.login.failed", data=data)
    messages.error(request, message)
    return _login_page(next_url)


@never_cache
def cas_login(request):
    """The login page's 统一身份认证登录 button: off to the CAS server's login."""
    if not sso.enabled():
        raise Http404
    next_url = _local_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    return redirect(sso.login_url(request, next_url))


@never_cache
def cas_callback(request):
    """The CAS server sends the browser back here with a ticket; the server itself confirms
    who it belongs to. A known, active account is then logged in as a password would log it
    in (second factor included); nobody else is, and no account is ever created."""
    if not sso.enabled():
        raise Http404
    next_url = _local_next(request)
    state = request.GET.get("state")
    ticket = request.GET.get("ticket", "")
    if state is None:
        # A login not started here (a campus portal linking straight to this address): start
        # one from this browser, so a ticket handed to somebody else is never used.
        return redirect(sso.login_url(request, next_url))
    expected = request.session.pop(sso.STATE_KEY, None)
    if (
        not expected
        or not constant_time_compare(state, expected)
        or not ticket
        or len(ticket) > sso.MAX_TICKET_LENGTH
    ):
        return _cas_refused(request, next_url, "state", _("统一身份认证未通过，请重新登录。"))
    try:
        username = sso.validate(request, ticket, next_url, state)
    except sso.Failure as failure:
        if failure.reason == "unavailable":
            message = _("统一身份认证服务暂时无法使用，请稍后再试或使用密码登录。")
        else:
            message = _("统一身份认证未通过，请重新登录。")
        return _cas_refused(request, next_url, failure.reason, message)
    user = (
        get_user_model()
        ._default_manager.select_related("student", "staff")
        .filter(username=username)
        .first()
    )
    if user is None:
        return _cas_refused(
            request,
            next_url,
            "unknown",
            _("学号/职工号不在本系统中，请联系学生离校工作主管部门。"),
            username,
        )
    if not user.is_active:
        return _cas_refused(
            request, next_url, "inactive", _("该账号已停用，请联系学生离校工作主管部门。"), username
        )
    target = next_url or resolve_url(settings.LOGIN_REDIRECT_URL)
    user.backend = sso.BACKEND  # kept by a pending second-factor login, used by its auth_login
    if totp.enabled(user):
        totp.start_pending(request, user, target)
        return redirect("accounts:totp_verify")
    auth_login(request, user, backend=sso.BACKEND)
    return redirect(target)


def locked_out(request, response=None, credentials=None):
    """django-axes 8 calls this (request, original response, credentials) when username +
    address has failed too often: our page, with the cool-off in minutes, status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked.html", {"minutes": minutes}, status=429)


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        passwords.set_new(request.user, form.cleaned_data["new1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("密码已修改。"))
        return redirect("accounts:home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            # A CAS login is not forced to change a password it never uses (middleware).
            "forced": request.user.uses_initial_password and not sso.session_is_cas(request),
            "totp_offered": totp.can_enrol(request.user),
        },
    )


@login_required
def home(request):
    roles = role_mod.available(request)
    if not roles:
        return render(request, "accounts/no_role.html")
    role = role_mod.current(request)
    if role is None:
        return redirect("accounts:role")
    return redirect(role_mod.HOMES[role])


@login_required
def choose_role(request):
    roles = role_mod.available(request)
    if request.method == "POST":
        role = request.POST.get("role")
        if role in roles:
            request.session[role_mod.SESSION_KEY] = role
            return redirect(role_mod.HOMES[role])
        messages.error(request, _("请选择您拥有的身份。"))
    return render(
        request, "accounts/role.html", {"choices": [(r, role_mod.LABELS[r]) for r in roles]}
    )
