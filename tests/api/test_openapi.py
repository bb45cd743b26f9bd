"""The schema says what each operation takes and every answer it can give, so a client need not guess."""

import pytest

from tests.api.conftest import operations

OPERATIONS = operations()


def _id(op) -> str:
    return f"{op[0]} {op[1]}"


@pytest.fixture
def schema(client):
    return client.get("/api/v1/openapi.json").json()


def test_the_error_shapes_are_components(schema):
    schemas = schema["components"]["schemas"]
    assert set(schemas["ApiError"]["required"]) == {"detail", "code"}
    assert set(schemas["InvalidInput"]["required"]) == {"detail", "code", "errors"}
    assert set(schemas["FieldError"]["required"]) == {"loc", "msg", "type"}
    assert "refusal" in schemas["Refusal"]["required"]
    assert "rate_limited" in schemas["ApiError"]["properties"]["code"]["description"]
    assert "错误" in schema["info"]["description"] and "Errors" in schema["info"]["description"]


@pytest.mark.parametrize("op", OPERATIONS, ids=_id)
def test_every_refusal_the_api_layer_gives_is_declared(op):
    method, path, operation = op
    responses = operation["responses"]
    expected = {"422"}  # parameters, and NUL in any query value
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        expected.add("404")
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        expected |= {"413", "415"}
    if operation.get("security"):
        expected.add("401")
    assert expected <= set(responses), sorted(responses)
    for status, answer in responses.items():
        if status.startswith("4"):
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1] in {"ApiError", "InvalidInput", "Refusal", "InvalidPush"}


def test_the_desk_declares_its_403_and_the_csrf_pair_on_changes(schema):
    paths = schema["paths"]
    search = paths["/api/v1/desk/batches/{batch_id}/forms"]["get"]
    assert search["security"] == [{"DeskSession": []}]
    assert "403" in search["responses"]
    change = paths["/api/v1/desk/records/{record_id}/pass"]["post"]
    assert change["security"] == [{"DeskSession": [], "CsrfCookie": [], "CsrfToken": []}]
    assert {"403", "404", "409"} <= set(change["responses"])
    schemes = schema["components"]["securitySchemes"]
    assert schemes["DeskSession"] == {**schemes["DeskSession"], "in": "cookie", "name": "sessionid"}
    assert schemes["CsrfCookie"]["name"] == "csrftoken" and schemes["CsrfCookie"]["in"] == "cookie"
    assert schemes["CsrfToken"]["name"] == "X-CSRFToken" and schemes["CsrfToken"]["in"] == "header"


def test_pass_and_revoke_take_an_optional_note_of_at_most_255_characters(schema):
    change = schema["paths"]["/api/v1/desk/records/{record_id}/pass"]["post"]
    assert change["requestBody"]["required"] is False
    note = schema["components"]["schemas"]["NoteIn"]["properties"]["note"]
    assert note["maxLength"] == 255
    refusal = change["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert refusal.endswith("/Refusal")


def test_the_search_declares_its_filters(schema):
    search = schema["paths"]["/api/v1/desk/batches/{batch_id}/forms"]["get"]
    params = {p["name"]: p["schema"] for p in search["parameters"]}
    assert {"q", "college", "major", "class_name", "student_type", "political_status"} <= set(
        params
    )
    assert params["completed"]["enum"] == ["", "yes", "no"]
    assert "中共预备党员" in params["political_status"]["enum"]
    assert params["page"]["minimum"] == 1 and params["q"]["maxLength"] == 64


def test_the_push_token_is_a_bearer_scheme_and_the_push_declares_its_answers(schema):
    assert schema["components"]["securitySchemes"]["SourceToken"]["type"] == "http"
    assert schema["components"]["securitySchemes"]["SourceToken"]["scheme"] == "bearer"
    push = schema["paths"]["/api/v1/sources/{code}/rows"]["post"]
    assert push["security"] == [{"SourceToken": []}]
    assert push["requestBody"]["required"] is True
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["rows"] and body["properties"]["rows"]["maxItems"] == 10_000
    responses = push["responses"]
    assert {"200", "401", "413", "415", "422", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
    assert "WWW-Authenticate" in responses["401"]["headers"]
    result = schema["components"]["schemas"]["PushResult"]["required"]
    assert {"received", "inserted", "updated", "unchanged", "deleted", "unmatched", "sync"} == set(
        result
    )
    assert "RowError" in schema["components"]["schemas"]
