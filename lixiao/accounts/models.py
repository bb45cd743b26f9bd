"""The TOTP second factor of a staff account (its secret sealed at rest, see accounts.totp)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TOTPDevice(models.Model):
    """One authenticator app per account; the row exists only once a code has confirmed it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    # AES-GCM with a key derived from LIXIAO_ID_KEY, bound to the account (accounts.totp.seal):
    # the raw column never holds the secret, and one account's sealed secret fails on another.
    secret_enc = models.TextField(_("密钥（加密）"))
    # The last 30-second time step whose code was accepted: that code and older ones are refused.
    last_step = models.BigIntegerField(default=0)
    enabled_at = models.DateTimeField(_("开启时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("双因素认证")

    def __str__(self):
        return str(self.user)
