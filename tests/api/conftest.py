"""API test helpers: credentials for each security scheme, and the operations the schema lists."""

import json

import pytest
from django.test import Client

from lixiao.api.api import api
from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.services import set_token

FINANCE_TOKEN = "test-finance-token"


@pytest.fixture
def credentials(uni):
    """A handler's browser session (with its CSRF pair), a student's session and the finance
    source's push token: what a client sends for each security scheme the schema names."""
    set_token(IntegrationSource.objects.get(code="finance"), FINANCE_TOKEN)
    browser = Client()
    browser.force_login(uni.counselor_cs)
    browser.get("/desk/")  # sets the CSRF cookie, as the page does for a browser
    session = browser.cookies["sessionid"].value
    csrf = browser.cookies["csrftoken"].value
    # A student's session for the student's read-only operations (预约: /api/v1/me/…).
    student = Client()
    student.force_login(uni.student.user)
    student_session = student.cookies["sessionid"].value
    return {
        "DeskSession": {"cookies": {"sessionid": session}},
        "StudentSession": {"cookies": {"sessionid": student_session}},
        "CsrfCookie": {"cookies": {"csrftoken": csrf}},
        "CsrfToken": {"headers": {"X-CSRFToken": csrf}},
        "SourceToken": {"headers": {"Authorization": f"Bearer {FINANCE_TOKEN}"}},
        "raw": {
            "session": session,
            "student_session": student_session,
            "csrf": csrf,
            "token": FINANCE_TOKEN,
        },
    }


def operations() -> list[tuple[str, str, dict]]:
    """(method, path, operation) for every operation of /api/v1/openapi.json."""
    schema = json.loads(json.dumps(api.get_openapi_schema()))  # as served: keys are strings
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
