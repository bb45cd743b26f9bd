"""Every operation of the schema answers malformed input with a 4xx in the error shape, writing nothing.

The operations come from /api/v1/openapi.json, so one added later is checked here too. Each is
called with the credentials its security schemes name (a handler's session with the CSRF pair,
the finance source's token), so the refusals tested are the ones past authentication.
"""

import json

import pytest
from django.test import Client

from lixiao.api.errors import CODES
from lixiao.clearance.models import Event, Record
from lixiao.integrations.models import SourceRow, SyncRun
from lixiao.notify.models import Notification
from tests.api.conftest import operations

pytestmark = pytest.mark.django_db
OPERATIONS = operations()
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _id(op) -> str:
    return f"{op[0]} {op[1]}"


def url_for(path: str, operation: dict, uni, **override) -> str:
    """The operation's URL with each path parameter naming something that exists."""
    exists = {"integer": str(uni.form.records.order_by("id").first().id), "string": "finance"}
    for p in operation.get("parameters", []):
        if p["in"] == "path":
            value = override.get(p["name"], exists[p["schema"].get("type", "string")])
            path = path.replace("{" + p["name"] + "}", value)
    return path


def client_for(operation: dict, credentials: dict, method: str) -> tuple[Client, dict]:
    """A client holding what the operation's security asks for, and the headers to send."""
    client, headers = Client(enforce_csrf_checks=True), {}
    for requirement in operation.get("security", []):
        for scheme in requirement:
            for name, value in credentials[scheme].get("cookies", {}).items():
                client.cookies[name] = value
            for name, value in credentials[scheme].get("headers", {}).items():
                headers["HTTP_" + name.upper().replace("-", "_")] = value
    return client, headers


def nothing_written():
    """What a refused request must leave as it was: records, audit, source rows, syncs, notices."""
    return (
        list(Record.objects.order_by("id").values_list("id", "state", "note", "handled_at")),
        Event.objects.count(),
        SourceRow.objects.count(),
        SyncRun.objects.count(),
        Notification.objects.count(),
    )


def assert_refused(response, operation: dict | None, status: int, code: str | None = None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] in CODES[status], body
    if code:
        assert body["code"] == code, body
    if operation is not None:  # the schema says this answer can come
        assert str(status) in operation["responses"], (status, sorted(operation["responses"]))
    return body


BODIES = {
    # name: (content type, raw body, status, code)
    "multipart without boundary": ("multipart/form-data", b"x", 415, "unsupported_media_type"),
    "multipart, empty": ("multipart/form-data", b"", 415, "unsupported_media_type"),
    "form-encoded": ("application/x-www-form-urlencoded", b"note=x", 415, None),
    "JSON sent as text/plain": ("text/plain", b'{"note": "x"}', 415, None),
    "body without a type": ("", b'{"note": "x"}', 415, None),
    "JSON in Latin-1": ("application/json; charset=latin-1", b"{}", 415, None),
    "not JSON": ("application/json", b"{", 422, "invalid_json"),
    "not UTF-8": ("application/json", b'{"note": "\xff\xfe"}', 422, "invalid_json"),
    "UTF-16": ("application/json", '{"note": "x"}'.encode("utf-16"), 422, "invalid_json"),
    "deeply nested": ("application/json", b"[" * 100_000, 422, "invalid_json"),
    "NaN": ("application/json", b'{"note": NaN, "rows": NaN}', 422, "invalid_json"),
    "a 5,000-digit number": ("application/json", b'{"rows": ' + b"9" * 5000 + b"}", 422, None),
    "a number past float": ("application/json", b'{"note": 1e999, "rows": [1e999]}', 422, None),
    "NUL in a string": (
        "application/json",
        b'{"note": "a\\u0000", "rows": ["\\u0000"]}',
        422,
        None,
    ),
    "a lone surrogate": (
        "application/json",
        b'{"note": "\\ud800", "rows": ["\\udfff"]}',
        422,
        None,
    ),
    "NUL in a key": ("application/json", b'{"\\u0000": 1}', 422, "invalid_json"),
    "NUL deep in a row": (
        "application/json",
        b'{"rows": [{"a": [1, {"b": "\\u0000"}]}]}',
        422,
        None,
    ),
    "an array, not an object": ("application/json", b"[]", 422, None),
    "a number, not an object": ("application/json", b"5", 422, None),
    "wrong types": ("application/json", b'{"note": [], "rows": {}, "mode": 5}', 422, None),
}


@pytest.mark.parametrize("case", list(BODIES), ids=str)
@pytest.mark.parametrize("op", [o for o in OPERATIONS if o[0] in UNSAFE], ids=_id)
def test_a_malformed_body_is_a_4xx_and_writes_nothing(uni, credentials, op, case):
    method, path, operation = op
    content_type, raw, status, code = BODIES[case]
    client, headers = client_for(operation, credentials, method)
    before = nothing_written()
    # The type as the client sent it, also with an empty body (the test client drops it then).
    response = client.generic(
        method, url_for(path, operation, uni), raw, CONTENT_TYPE=content_type, **headers
    )
    assert_refused(response, operation, status, code)
    assert nothing_written() == before


@pytest.mark.parametrize("op", [o for o in OPERATIONS if o[0] in UNSAFE], ids=_id)
def test_a_body_over_the_limit_is_413_before_it_is_read(uni, credentials, op, settings):
    method, path, operation = op
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client, headers = client_for(operation, credentials, method)
    before = nothing_written()
    body = json.dumps({"note": "x" * 2000, "rows": ["x" * 2000]})
    response = client.generic(
        method, url_for(path, operation, uni), body, content_type="application/json", **headers
    )
    body = assert_refused(response, operation, 413, "too_large")
    assert "MB" in body["detail"]
    assert nothing_written() == before


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
def test_nul_in_the_query_is_422_naming_the_parameter(uni, credentials, op):
    method, path, operation = op
    client, headers = client_for(operation, credentials, method)
    before = nothing_written()
    url = url_for(path, operation, uni) + "?q=%00&college=1"
    response = client.generic(method, url, b"", content_type="", **headers)
    body = assert_refused(response, operation, 422, "invalid")
    assert body["errors"] == [
        {"loc": ["query", "q"], "msg": "含有不允许的字符（NUL）", "type": "string_characters"}
    ]
    assert nothing_written() == before


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
def test_more_query_parameters_than_django_reads_is_422(uni, credentials, op, settings):
    method, path, operation = op
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client, headers = client_for(operation, credentials, method)
    url = url_for(path, operation, uni) + "?" + "&".join(f"f{n}=1" for n in range(11))
    response = client.generic(method, url, b"", **headers)
    body = assert_refused(response, operation, 422, "invalid")
    assert body["detail"] == "请求有误：查询字符串：参数过多：最多 10 个"


PATH_VALUES = {
    # value put in an integer path parameter: the statuses a client may get
    "abc": {422},
    "0": {404},
    "-1": {404},
    str(2**63): {404, 422},  # past BIGINT: never reaches the database as an error
    "9" * 40: {404, 422},
    "1.5": {422},
}


def _path_parameters(operation: dict, kind: str | None = None) -> list[str]:
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "path" and kind in (None, p["schema"].get("type"))
    ]


@pytest.mark.parametrize("value", list(PATH_VALUES), ids=str)
@pytest.mark.parametrize(
    "op", [o for o in OPERATIONS if _path_parameters(o[2], "integer")], ids=_id
)
def test_an_id_naming_nothing_is_a_4xx(uni, credentials, op, value):
    method, path, operation = op
    client, headers = client_for(operation, credentials, method)
    name = _path_parameters(operation, "integer")[0]
    before = nothing_written()
    url = url_for(path, operation, uni, **{name: value})
    response = client.generic(method, url, b"{}", content_type="application/json", **headers)
    assert response.status_code in PATH_VALUES[value], response.content[:300]
    assert_refused(response, operation, response.status_code)
    assert nothing_written() == before


@pytest.mark.parametrize("op", [o for o in OPERATIONS if _path_parameters(o[2])], ids=_id)
def test_nul_in_the_path_is_404(uni, credentials, op):
    """PostgreSQL text cannot hold NUL: it is refused before anything looks the value up."""
    method, path, operation = op
    client, headers = client_for(operation, credentials, method)
    for name in _path_parameters(operation):
        url = url_for(path, operation, uni, **{name: "fin%00ance"})
        response = client.generic(method, url, b"{}", content_type="application/json", **headers)
        assert_refused(response, operation, 404, "not_found")


@pytest.mark.parametrize("op", [o for o in OPERATIONS if o[2].get("security")], ids=_id)
def test_without_credentials_401_in_the_error_shape(uni, op):
    method, path, operation = op
    before = nothing_written()
    response = Client().generic(
        method, url_for(path, operation, uni), b"{}", content_type="application/json"
    )
    assert_refused(response, operation, 401, "not_authenticated")
    assert nothing_written() == before


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
def test_a_method_the_address_does_not_take_is_405_saying_which_it_does(uni, credentials, op):
    method, path, operation = op
    other = "PATCH" if method != "PATCH" else "PUT"
    client, headers = client_for(operation, credentials, method)
    response = client.generic(other, url_for(path, operation, uni), b"", **headers)
    assert_refused(response, None, 405, "method_not_allowed")
    assert response["Allow"] == method
    assert method in response.json()["detail"]


def test_an_address_that_names_no_operation_is_a_json_404(client):
    for url in ("/api/v1/nothing", "/api/v1/desk/forms/1/more", "/api/v1/desk/batches/"):
        assert_refused(client.get(url), None, 404, "not_found")


def test_errors_follow_the_request_language(uni, credentials):
    """detail is a sentence in the person's language; code and loc stay as they are."""
    method, path, operation = next(o for o in OPERATIONS if o[1].endswith("/pass"))
    client, headers = client_for(operation, credentials, method)
    url = url_for(path, operation, uni)
    sent = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en", **headers}
    wrong = client.post(url, b'{"note": 5}', **sent).json()
    assert wrong["code"] == "invalid"
    assert wrong["detail"] == "Invalid request: body field note: must be text"
    assert wrong["errors"] == [
        {"loc": ["body", "note"], "msg": "must be text", "type": "string_type"}
    ]
    assert "JSON" in client.post(url, b"{", **sent).json()["detail"]
    media = client.post(url, b"x", **{**sent, "content_type": "text/plain"}).json()
    assert media["detail"].startswith("The body must be JSON")
    missing = Client().get("/api/v1/desk/batches", HTTP_ACCEPT_LANGUAGE="en").json()
    assert missing == {
        "detail": "Not logged in, or the session expired: log in first",
        "code": "not_authenticated",
    }


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
def test_a_session_cookie_no_session_could_have_is_no_session(uni, op):
    """A quoted cookie may carry a NUL ("\\000"): PostgreSQL refused it, every request was a 500."""
    method, path, operation = op
    client = Client(HTTP_COOKIE='sessionid="abcdefgh\\000ijklmn"; csrftoken="x\\000"')
    response = client.generic(
        method, url_for(path, operation, uni), b"{}", content_type="application/json"
    )
    if operation.get("security"):
        assert_refused(response, operation, 401, "not_authenticated")
    else:
        assert response.status_code == 200
