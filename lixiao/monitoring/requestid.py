"""One id per request, taken from the proxy (nginx's $request_id) or made here, in every log line."""

import contextvars
import logging
import re
import uuid

_current = contextvars.ContextVar("lixiao_request_id", default="-")
# What we accept from a proxy: a short token of safe characters, never a place to inject text.
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> str:
    return _current.get()


class RequestIdMiddleware:
    """Sets request.request_id and the X-Request-ID response header; logs of the request carry it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _VALID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds record.request_id ("-" outside a request: the task worker, commands)."""

    def filter(self, record):
        record.request_id = _current.get()
        return True
