"""The REST API's front door: the OpenAPI schema and the health check."""

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Lixiao 离校 API"
    assert "/api/v1/health" in schema["paths"]


def test_health_answers_without_login(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_open_during_forced_password_change_only_for_anonymous(uni, client):
    # A logged-in person who must still change the initial password is sent to do so first.
    from lixiao.directory.models import User

    User.objects.filter(pk=uni.student.user.pk).update(uses_initial_password=True)
    client.force_login(uni.student.user)
    response = client.get("/api/v1/health")
    assert response.status_code == 302 and response.url == "/accounts/password/"
