"""Views of the TOTP second factor: the code step of a login, enrolment, turning it off, and
the office's reset for a lost phone. The logic (codes, sealing, the pending login) is in totp."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lixiao import keyring
from lixiao.accounts import totp
from lixiao.accounts.forms import TOTPCodeForm, TOTPDisableForm
from lixiao.accounts.models import TOTPDevice
from lixiao.accounts.network import client_ip
from lixiao.accounts.roles import role_required
from lixiao.accounts.views import locked_out
from lixiao.clearance import services

PAGE_SIZE = 50


def _audit(request, action: str, *, note: str = "", data: dict | None = None) -> None:
    actor = services.Actor(user=request.user, source="", client_ip=client_ip(request))
    services.log(actor, action, note=note, data=data)


# --- the second step of a login ----------------------------------------------------------------


def _code_failed(request, username: str) -> None:
    """A wrong code counts as a failed login: the same signal as a wrong password, so
    django-axes counts it toward the username + address lockout and the audit records it.
    When this failure reaches the limit axes flags the request and its middleware answers
    with the lockout page instead of ours."""
    user_login_failed.send(
        sender=__name__, credentials={"username": username, "factor": "totp"}, request=request
    )


@never_cache
def verify(request):
    """The password has passed; the person is not logged in until a current code does too."""
    was_pending = totp.PENDING_KEY in request.session
    data = totp.pending(request)
    if data is None:
        if was_pending:
            messages.warning(request, _("验证已超时，请重新登录。"))
        return redirect("accounts:login")
    user = get_user_model()._default_manager.filter(pk=data["user"], is_active=True).first()
    device = totp.device_of(user)
    if user is None or device is None:
        # Disabled, or the second factor was reset meanwhile: the login starts again.
        totp.end_pending(request)
        return redirect("accounts:login")
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST":
        credentials = {"username": user.username}
        if AxesProxyHandler.is_locked(request, credentials):
            totp.end_pending(request)
            _code_failed(request, user.username)
            return locked_out(request)
        if form.is_valid() and totp.use_code(device, form.cleaned_data["code"]):
            totp.end_pending(request)
            request.lixiao_second_factor = "totp"  # for the login audit (signals.logged_in)
            auth_login(request, user, backend=data.get("backend") or None)
            target = data.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = "accounts:home"
            return redirect(target)
        _code_failed(request, user.username)
        if getattr(request, "axes_locked_out", False):
            totp.end_pending(request)
            return locked_out(request)
        if form.is_valid():  # six digits, but not a current unused code (never shown back)
            form.add_error(None, _("验证码不正确或已使用过，请输入身份验证器中当前显示的验证码。"))
    return render(request, "accounts/totp_verify.html", {"form": form})


# --- enrolment and turning it off --------------------------------------------------------------


def _setup_secret(request) -> str:
    """The secret being enrolled: kept (sealed) in the session until a code confirms it, so
    reloading the page does not change the QR code the person may already have scanned."""
    user_id = request.user.pk
    sealed = request.session.get(totp.SETUP_KEY)
    if sealed:
        try:
            return totp.unseal(sealed, user_id, "setup")
        except (keyring.UnknownKey, ValueError):
            pass
    secret = totp.new_secret()
    request.session[totp.SETUP_KEY] = totp.seal(secret, user_id, "setup")
    return secret


@never_cache
@login_required
def setup(request):
    """Turn on 双因素认证 (staff only), or see that it is on and turn it off."""
    if not totp.can_enrol(request.user):
        raise PermissionDenied(_("只有教职工账号可以开启双因素认证。"))
    device = totp.device_of(request.user)
    if device is not None:
        return render(
            request,
            "accounts/totp_status.html",
            {"device": device, "form": TOTPDisableForm(request.user)},
        )
    secret = _setup_secret(request)
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = totp.matching_step(secret, form.cleaned_data["code"])
        if step is not None:
            with transaction.atomic():
                totp.enable(request.user, secret, step)
                _audit(request, "accounts.totp.enabled")
            request.session.pop(totp.SETUP_KEY, None)
            messages.success(request, _("双因素认证已开启。以后登录时，输入密码后还需输入验证码。"))
            return redirect("accounts:home")
        form.add_error(
            "code", _("验证码不正确。请确认手机时间准确，并输入应用中当前显示的验证码。")
        )
    uri = totp.provisioning_uri(secret, request.user.username)
    return render(
        request,
        "accounts/totp_setup.html",
        {
            "form": form,
            "qr_svg": totp.qr_svg(uri),
            "secret_groups": totp.grouped(secret),
            "account": request.user.username,
            "issuer": totp.ISSUER,
            "forced": getattr(request, "lixiao_totp_forced", False),
        },
    )


@never_cache
@login_required
@require_POST
def disable(request):
    device = totp.device_of(request.user)
    if device is None:
        return redirect("accounts:totp")
    form = TOTPDisableForm(request.user, request.POST)
    if form.is_valid():
        if totp.use_code(device, form.cleaned_data["code"]):
            with transaction.atomic():
                totp.disable(request.user)
                _audit(request, "accounts.totp.disabled")
            messages.success(request, _("双因素认证已关闭。"))
            return redirect("accounts:totp")
        form.add_error("code", _("验证码不正确或已使用过，请输入身份验证器中当前显示的验证码。"))
    return render(request, "accounts/totp_status.html", {"device": device, "form": form})


# --- the office: a lost phone ------------------------------------------------------------------


@never_cache
@role_required("office")
def staff(request):
    """Accounts with the second factor on, searchable; each can be reset (lost phone)."""
    q = request.GET.get("q", "").strip()
    devices = TOTPDevice.objects.select_related("user").order_by("user__username")
    if q:
        devices = devices.filter(Q(user__username__icontains=q) | Q(user__name__icontains=q))
    page = Paginator(devices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/totp_staff.html", {"page": page, "q": q})


@role_required("office")
@require_POST
def reset(request, user_id: int):
    """Remove another person's second factor, e.g. after a lost phone: they log in with the
    password alone and enrol again (at once, for the office under LIXIAO_OFFICE_TOTP)."""
    target = get_object_or_404(get_user_model(), pk=user_id)
    if target.pk == request.user.pk:
        messages.error(
            request, _("不能重置自己的双因素认证：请在“双因素认证”页面用密码和验证码关闭。")
        )
        return redirect("accounts:totp_staff")
    with transaction.atomic():
        if not totp.disable(target):
            messages.info(request, _("%(name)s 未开启双因素认证。") % {"name": target})
            return redirect("accounts:totp_staff")
        _audit(
            request,
            "accounts.totp.reset",
            note=f"重置双因素认证：{target}",
            data={"user_id": target.pk, "username": target.username},
        )
    messages.success(request, _("已重置 %(name)s 的双因素认证。") % {"name": target})
    return redirect("accounts:totp_staff")
