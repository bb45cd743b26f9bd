"""Who may read the probes' details and the metrics: addresses listed in LIXIAO_METRICS_ALLOW."""

import ipaddress
from functools import lru_cache, wraps

from django.conf import settings
from django.http import HttpResponseForbidden

from lixiao.accounts.network import client_ip


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]):
    return [ipaddress.ip_network(a, strict=False) for a in allowed]


def allowed(request) -> bool:
    address = client_ip(request)
    if not address:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in net for net in _networks(tuple(settings.LIXIAO_METRICS_ALLOW)))


def monitors_only(view):
    """403 with one plain line for anyone else: the metrics name batches, steps and sources."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not allowed(request):
            return HttpResponseForbidden(
                "Forbidden: this address is not in LIXIAO_METRICS_ALLOW.\n",
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return wrapper
