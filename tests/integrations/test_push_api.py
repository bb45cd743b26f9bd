"""The push API: who may push, what a push stores and counts, and every refusal writing nothing."""

import pytest

from lixiao.clearance.models import State
from lixiao.integrations.models import SourceRow
from lixiao.integrations.services import revoke_token, rotate_token
from tests.conftest import record
from tests.integrations.conftest import FINANCE_TOKEN, LIBRARY_TOKEN, push

ROW = {
    "student_number": "2022000001",
    "cleared": False,
    "reason": "欠费 1200.00 元",
    "amount": "1200.00",
}


def test_push_stores_counts_and_is_idempotent(client, finance):
    rows = [
        ROW,
        {"student_number": "2022000005", "cleared": True},
        {"student_number": "2099999999", "cleared": True},
    ]
    first = push(client, "finance", rows, FINANCE_TOKEN)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["inserted"], body["updated"], body["unchanged"], body["unmatched"]) == (3, 0, 0, 1)
    again = push(client, "finance", rows, FINANCE_TOKEN).json()
    assert (again["inserted"], again["updated"], again["unchanged"], again["unmatched"]) == (
        0,
        0,
        3,
        1,
    )
    changed = push(
        client, "finance", [{**ROW, "cleared": True, "reason": "", "amount": None}], FINANCE_TOKEN
    ).json()
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, 0)
    row = SourceRow.objects.get(source=finance, student_number="2022000001")
    assert row.cleared and row.amount is None
    # The unknown 学号 is kept for when the roster arrives.
    assert SourceRow.objects.filter(source=finance, student_number="2099999999").exists()


def test_replace_deletes_rows_not_sent(client, finance):
    push(client, "finance", [ROW, {"student_number": "2022000005", "cleared": True}], FINANCE_TOKEN)
    body = push(client, "finance", [ROW], FINANCE_TOKEN, mode="replace").json()
    assert body["deleted"] == 1 and body["unchanged"] == 1
    assert list(
        SourceRow.objects.filter(source=finance).values_list("student_number", flat=True)
    ) == ["2022000001"]


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", "Basic abc", f"Bearer {LIBRARY_TOKEN}"]
)
def test_refused_without_this_sources_token(client, finance, library, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        "/api/v1/sources/finance/rows", {"rows": [ROW]}, content_type="application/json", **extra
    )
    assert response.status_code == 401
    assert not SourceRow.objects.exists()


def test_revoked_and_rotated_tokens_are_refused(client, finance):
    revoke_token(finance)
    assert push(client, "finance", [ROW], FINANCE_TOKEN).status_code == 401
    new = rotate_token(finance)
    assert push(client, "finance", [ROW], FINANCE_TOKEN).status_code == 401
    assert push(client, "finance", [ROW], new).status_code == 200
    finance.refresh_from_db()
    assert (
        new not in finance.token_hash and len(finance.token_hash) == 64
    )  # only the digest is kept


def test_unknown_source_is_refused_like_a_wrong_token(client, finance):
    assert push(client, "nosuch", [ROW], FINANCE_TOKEN).status_code == 401


def test_malformed_rows_are_listed_and_nothing_is_written(client, finance):
    rows = [
        ROW,
        {"cleared": True},
        {"student_number": "2022000005", "cleared": "maybe"},
        {"student_number": "2022000003", "cleared": True, "amount": "12x"},
        {**ROW},  # duplicate of row 0
        "not an object",
    ]
    response = push(client, "finance", rows, FINANCE_TOKEN)
    assert response.status_code == 422
    errors = response.json()["errors"]
    # Rows are counted as people count them (the first row is 第 1 行); index is the array position.
    assert [e["row"] for e in errors] == [2, 3, 4, 5, 6]
    assert [e["index"] for e in errors] == [1, 2, 3, 4, 5]
    assert "student_number" in errors[0]["reason"] and "cleared" in errors[1]["reason"]
    assert errors[3]["reason"] == "学号 2022000001 与第 1 行重复"
    assert "第 0 行" not in response.content.decode()
    assert not SourceRow.objects.exists()


@pytest.mark.parametrize(
    "body", ["not json", '{"rows": "x"}', '{"mode": "merge", "rows": []}', "[]"]
)
def test_malformed_body_is_422(client, finance, body):
    response = client.post(
        "/api/v1/sources/finance/rows",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {FINANCE_TOKEN}",
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def test_more_than_ten_thousand_rows_are_refused(client, finance):
    rows = [{"student_number": f"30{i:08d}", "cleared": True} for i in range(10_001)]
    response = push(client, "finance", rows, FINANCE_TOKEN)
    assert response.status_code == 413
    assert "10000" in response.json()["detail"] or "10,000" in response.json()["detail"]
    assert not SourceRow.objects.exists()


def test_rate_limit_per_source(client, finance, library, settings):
    settings.LIXIAO_PUSH_PER_MINUTE = 2
    assert push(client, "finance", [ROW], FINANCE_TOKEN).status_code == 200
    assert push(client, "finance", [ROW], FINANCE_TOKEN).status_code == 200
    refused = push(client, "finance", [{**ROW, "cleared": True}], FINANCE_TOKEN)
    assert refused.status_code == 429
    assert not SourceRow.objects.get(
        student_number="2022000001"
    ).cleared  # the refused push wrote nothing
    # Another source has its own budget.
    assert push(client, "library", [ROW], LIBRARY_TOKEN).status_code == 200


def test_push_syncs_the_students_it_touched(
    client, finance, uni, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        push(client, "finance", [{**ROW, "cleared": True, "reason": ""}], FINANCE_TOKEN)
    assert record(uni.form, "财务处").state == State.PASSED
    # Students the push did not mention are not touched by this sync (the scheduled one covers them).
    assert record(uni.form_cs2, "财务处").reason == ""


def test_openapi_documents_the_push(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/sources/{code}/rows"]["post"]
    assert "rows" in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
