"""Login, logout, password change, role choice and the landing redirect."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lixiao.accounts import passwords, totp
from lixiao.accounts import roles as role_mod
from lixiao.accounts.forms import LoginForm, PasswordChangeForm


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
            "forced": request.user.uses_initial_password,
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
