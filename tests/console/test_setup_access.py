"""Who may open the console's set-up pages: the office; the audit administrator reads only."""

import pytest
from django.test import Client
from django.urls import reverse

from lixiao.clearance.models import Category, ChangeRequest, Event, Grant
from lixiao.survey.models import Question
from tests.conftest import client_for
from tests.console.setup_helpers import auditor

pytestmark = pytest.mark.django_db


def urls(uni) -> list[str]:
    step = uni.category.steps.get(title="图书馆")
    grant = Grant.objects.filter(batch=uni.batch).first()
    question = Question.objects.create(
        category=uni.category, text="满意吗", kind="single", choices=["是", "否"]
    )
    change = ChangeRequest.objects.create(
        category=uni.category, kind="add", title="档案", reason="需要", requested_by=uni.library
    )
    c, b = uni.category.pk, uni.batch.pk
    return [
        reverse("console:home"),
        reverse("console:category_list"),
        reverse("console:category_create"),
        reverse("console:category", args=[c]),
        reverse("console:category_edit", args=[c]),
        reverse("console:category_delete", args=[c]),
        reverse("console:category_setup_done", args=[c]),
        reverse("console:step_create", args=[c]),
        reverse("console:step_edit", args=[c, step.pk]),
        reverse("console:step_delete", args=[c, step.pk]),
        reverse("console:step_move", args=[c, step.pk, "down"]),
        reverse("console:category_grants", args=[c]),
        reverse("console:batch_grants", args=[b]),
        reverse("console:batch_grants_copy", args=[b]),
        reverse("console:grant_delete", args=[grant.pk]),
        reverse("console:service", args=[c]),
        reverse("console:question_create", args=[c]),
        reverse("console:question_edit", args=[c, question.pk]),
        reverse("console:question_delete", args=[c, question.pk]),
        reverse("console:survey_results", args=[c]),
        reverse("console:survey_export", args=[c]),
        reverse("console:batch_list"),
        reverse("console:batch_create"),
        reverse("console:batch", args=[b]),
        reverse("console:batch_edit", args=[b]),
        reverse("console:batch_setup_done", args=[b]),
        reverse("console:change_requests"),
        reverse("console:change_request", args=[change.pk]),
    ]


# Pages that only take POST answer GET with a redirect back; everything else renders.
POST_ONLY = ("/move/", "/grants/copy/", "/grants/", "/questions/")


def test_anonymous_is_sent_to_login(uni):
    client = Client()
    for url in urls(uni):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response["Location"].startswith(
                "/accounts/login/"
            ), url


@pytest.mark.parametrize("persona", ["student", "library", "counselor_cs", "outsider"])
def test_other_roles_get_403_everywhere_and_nothing_changes(uni, persona):
    user = getattr(uni, persona)
    user = user.user if persona == "student" else user
    client = client_for(user)
    before = (Category.objects.count(), Grant.objects.count(), Event.objects.count())
    for url in urls(uni):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    assert (Category.objects.count(), Grant.objects.count(), Event.objects.count()) == before


def test_office_opens_every_page(uni):
    client = client_for(uni.office)
    for url in urls(uni):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        if response.status_code == 302:
            assert "delete" in url or "move" in url or "copy" in url, url


def test_auditor_reads_but_every_post_is_refused(uni):
    client = client_for(auditor())
    # Reading the export leaves its own audit trail; nothing else may be written.
    changes = Event.objects.exclude(action="console.survey.exported")
    before = (Category.objects.count(), Grant.objects.count(), changes.count())
    for url in urls(uni):
        if "/delete/" in url or "/move/" in url or "/copy/" in url:
            assert client.post(url).status_code == 403, url
            continue
        assert client.get(url).status_code == 200, url
        assert (
            client.post(url, {"name": "审计员的类别", "completion_rule": "all"}).status_code == 403
        ), url
    assert (Category.objects.count(), Grant.objects.count(), changes.count()) == before
    page = client.get(reverse("console:category", args=[uni.category.pk])).content.decode()
    assert "只读" in page and "添加环节" not in page
