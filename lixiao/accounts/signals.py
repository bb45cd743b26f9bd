"""Audit of logins: success and failure, never the password."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from lixiao.accounts import sso
from lixiao.accounts.network import client_ip
from lixiao.clearance.models import Event


def _ip(request):
    return client_ip(request)


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    if request is not None:
        request.session["lixiao_login_at"] = timezone.now().timestamp()
    # With the second factor the data says so (twofactor.verify marks the request).
    factor = getattr(request, "lixiao_second_factor", None)
    data = {"factor": factor} if factor else {}
    if request is not None and sso.session_is_cas(request):  # the session's backend says CAS
        data["method"] = "cas"
    Event.objects.create(
        actor=user, action="accounts.login.succeeded", client_ip=_ip(request), data=data
    )


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        Event.objects.create(actor=user, action="accounts.logout", client_ip=_ip(request))


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:64]
    data = {"username": username}
    if credentials.get("factor") == "totp":  # a wrong second-factor code (never the code itself)
        data["factor"] = "totp"
    Event.objects.create(action="accounts.login.failed", client_ip=_ip(request), data=data)
