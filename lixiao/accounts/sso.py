"""CAS single sign-on (统一身份认证): the CAS server's login, ticket validation and logout.

The protocol (URLs, serviceValidate / p3/serviceValidate, the XML answer) is python-cas's, the
client django-cas-ng is built on; around it: a 5-second timeout, a response refused when it
carries a DTD or entities (defusedxml), and a `state` value that binds the answer to the browser
that started the login. The CAS server only says who the person is: the account must already
exist here (学号/职工号 from the roster and master data); nothing is ever created from CAS.
Off while LIXIAO_CAS_URL is empty.
"""

import logging
import secrets
from urllib.parse import urlencode

import requests
from cas import CASClient
from defusedxml import ElementTree as SafeElementTree
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.urls import reverse

logger = logging.getLogger(__name__)

BACKEND = "lixiao.accounts.backends.CASBackend"
TIMEOUT_SECONDS = 5.0
MAX_TICKET_LENGTH = 256  # CAS protocol 3.0: services must accept tickets up to 256 characters
STATE_KEY = "lixiao_cas_state"


class Failure(Exception):
    """The ticket gave no username. reason: "unavailable" (unreachable, timed out, or not a CAS
    answer), "ticket" (the server refused it), "attribute" (LIXIAO_CAS_ATTRIBUTE missing)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Session(requests.Session):
    """python-cas calls session.get without a timeout: every request gets ours."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


def enabled() -> bool:
    return bool(settings.LIXIAO_CAS_URL)


def session_is_cas(request) -> bool:
    """Whether the current login came from CAS (the session's backend says so)."""
    session = getattr(request, "session", None)
    return session is not None and session.get(BACKEND_SESSION_KEY) == BACKEND


def _client(service: str | None):
    return CASClient(
        version=int(settings.LIXIAO_CAS_VERSION),
        service_url=service,
        server_url=settings.LIXIAO_CAS_URL,
        session=_Session(),
    )


def service_url(request, next_url: str, state: str) -> str:
    """Our callback, absolute, with the (already checked) next and the state. The validation
    must send exactly the service the login sent, so both build it here."""
    params = {"next": next_url} if next_url else {}
    params["state"] = state
    return request.build_absolute_uri(reverse("accounts:cas_callback")) + "?" + urlencode(params)


def login_url(request, next_url: str) -> str:
    """The CAS server's login page; a new state is remembered in this browser's session."""
    state = secrets.token_urlsafe(16)
    request.session[STATE_KEY] = state
    return _client(service_url(request, next_url, state)).get_login_url()


def logout_url(request) -> str:
    """The CAS server's logout, which then sends the browser back to our login page."""
    return _client(None).get_logout_url(request.build_absolute_uri(reverse("accounts:login")))


def validate(request, ticket: str, next_url: str, state: str) -> str:
    """The 学号/职工号 the CAS server vouches for with this ticket, or Failure. The ticket is
    never logged: until the server has seen it, it is a credential."""
    client = _client(service_url(request, next_url, state))
    try:
        body = client.get_verification_response(ticket)
    except requests.RequestException as exc:
        logger.warning("CAS server unreachable: %s", type(exc).__name__)
        raise Failure("unavailable") from None
    try:
        SafeElementTree.fromstring(body, forbid_dtd=True)  # no DTD, no entity expansion
        user, attributes, _pgtiou = client.verify_response(body)
    except Exception as exc:  # an HTML error page, empty or broken XML: not a CAS answer
        logger.warning("CAS server gave no readable answer: %s", type(exc).__name__)
        raise Failure("unavailable") from None
    if not user:
        raise Failure("ticket")
    attribute = settings.LIXIAO_CAS_ATTRIBUTE
    if attribute:
        value = (attributes or {}).get(attribute)
        if isinstance(value, list):
            value = value[0] if value else None
        if not value:
            logger.warning("CAS answer lacks the attribute %s (LIXIAO_CAS_ATTRIBUTE)", attribute)
            raise Failure("attribute")
        user = value
    return str(user).strip()[:150]
