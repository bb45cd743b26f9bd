"""Audit of logins: success and failure, never the password."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from lixiao.accounts import sso
from lixiao.accounts.network import client_ip
from lixiao.clearance import services


def _actor(request, user=None) -> services.Actor:
    # No source: a login is not a clearance entry point.
    return services.Actor(user=user, source="", client_ip=client_ip(request))


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    if request is not None:
        request.session["lixiao_login_at"] = timezone.now().timestamp()
    # With the second factor the data says so (twofactor.verify marks the request).
    factor = getattr(request, "lixiao_second_factor", None)
    data = {"factor": factor} if factor else {}
    if request is not None and sso.session_is_cas(request):  # the session's backend says CAS
        data["method"] = "cas"
    services.log(_actor(request, user), "accounts.login.succeeded", data=data)


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.log(_actor(request, user), "accounts.logout")


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:64]
    data = {"username": username}
    if credentials.get("factor") == "totp":  # a wrong second-factor code (never the code itself)
        data["factor"] = "totp"
    services.log(_actor(request), "accounts.login.failed", data=data)
