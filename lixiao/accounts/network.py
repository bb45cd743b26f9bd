"""The client's address, as lockout and audit must see it behind a reverse proxy."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with LIXIAO_PROXY_COUNT=n trusted proxies the address the nth proxy saw.

    Behind a proxy REMOTE_ADDR is the proxy itself: lockout would then be per username only
    (anyone could lock anyone out) and the audit would name the proxy. Only the rightmost n
    X-Forwarded-For entries were written by our proxies; anything left of them is client-made.
    """
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR")
    count = settings.LIXIAO_PROXY_COUNT
    if count > 0:
        hops = [
            h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()
        ]
        if len(hops) >= count:
            address = hops[-count]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
