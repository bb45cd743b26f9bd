"""Survey, messages, certificate and verification pages; scope (404) and surfaces (403)."""

import re

import pytest

from lixiao.clearance import services
from lixiao.clearance.models import Event, State, Step
from lixiao.demo import survey as demo_survey
from lixiao.objections.models import Objection
from lixiao.portal import tokens
from lixiao.survey.models import Response
from tests import factories as f
from tests.conftest import record
from tests.portal.conftest import PDF, complete_form, upload

pytestmark = pytest.mark.django_db


# survey


@pytest.fixture
def survey(uni):
    questions = demo_survey.create(uni.category)
    Step.objects.filter(category=uni.category, title="校友会登记").update(survey_bound=True)
    return questions


def answers(questions, **extra):
    single1, single2, multi, multi2, _text = questions
    data = {
        f"q{single1.id}": single1.choices[0],
        f"q{single2.id}": "满意",
        f"q{multi.id}": ["图书馆", "财务处"],
        f"q{multi2.id}": [multi2.choices[1]],
        f"q{_text.id}": "希望线上办理更多环节",
    }
    data.update(extra)
    return data


def test_demo_survey_has_five_questions_of_every_kind(uni, survey):
    assert len(survey) == 5
    assert {q.kind for q in survey} == {"single", "multiple", "text"}
    assert uni.category.survey_enabled
    assert len(demo_survey.create(uni.category)) == 5  # idempotent


def test_survey_answered_once_passes_bound_step(uni, client, survey):
    client.force_login(uni.student.user)
    assert "填写调查问卷" in client.get("/me/").content.decode()
    url = f"/me/survey/{uni.form.id}/"
    assert client.post(url, answers(survey)).status_code == 302
    response = Response.objects.get(form=uni.form)
    assert response.answers[str(survey[2].id)] == ["图书馆", "财务处"]
    rec = record(uni.form, "校友会登记")
    assert rec.state == State.PASSED
    assert Event.objects.get(record=rec, action="clearance.record.passed").source == "survey"
    html = client.get(url).content.decode()
    assert "以下为您的答案（只读）" in html and "<textarea" not in html and "图书馆、财务处" in html
    client.post(url, answers(survey, **{f"q{survey[1].id}": "非常不满意"}))
    response.refresh_from_db()
    assert response.answers[str(survey[1].id)] == "满意"


def test_survey_required_and_foreign_choices_are_errors(uni, client, survey):
    client.force_login(uni.student.user)
    data = answers(survey)
    del data[f"q{survey[0].id}"]
    data[f"q{survey[2].id}"] = ["不存在的选项"]
    response = client.post(f"/me/survey/{uni.form.id}/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "此题为必答题" in html and "请从给出的选项中选择" in html
    assert not Response.objects.exists() and record(uni.form, "校友会登记").state == State.PENDING


def test_survey_of_another_student_or_disabled_is_404(uni, client, survey):
    client.force_login(uni.student_lit.user)
    assert client.get(f"/me/survey/{uni.form.id}/").status_code == 404
    assert client.post(f"/me/survey/{uni.form.id}/", answers(survey)).status_code == 404
    uni.category.survey_enabled = False
    uni.category.save()
    client.force_login(uni.student.user)
    assert client.get(f"/me/survey/{uni.form.id}/").status_code == 404
    assert not Response.objects.exists()


# messages


def test_student_sends_done_with_pdf_and_sees_reply(uni, client):
    client.force_login(uni.student.user)
    rec = record(uni.form, "学生公寓")
    response = client.post(
        f"/me/steps/{rec.id}/message/",
        {"kind": "done", "message": "钥匙已交", "attachment": upload(PDF, "a.pdf")},
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    from lixiao.objections import services as objections

    objections.reply(uni.dorm, objection, "已收到，明天核对")
    html = client.get("/me/").content.decode()
    assert "钥匙已交" in html and "已收到，明天核对" in html and "已回复" in html
    file = client.get(f"/me/messages/{objection.id}/attachment/")
    assert file.status_code == 200 and file["Content-Type"] == "application/pdf"
    assert b"".join(file.streaming_content) == PDF


def test_bad_upload_is_a_clear_message(uni, client):
    client.force_login(uni.student.user)
    rec = record(uni.form, "学生公寓")
    response = client.post(
        f"/me/steps/{rec.id}/message/",
        {"kind": "done", "message": "x", "attachment": upload(b"GIF89a....", "a.png")},
    )
    assert response.status_code == 400
    assert "附件只能是图片（PNG、JPEG）或 PDF 文件" in response.content.decode()
    assert not Objection.objects.exists()


def test_another_students_step_and_attachment_are_404(uni, client):
    client.force_login(uni.student.user)
    client.post(
        f"/me/steps/{record(uni.form, '学生公寓').id}/message/",
        {"kind": "done", "message": "mine", "attachment": upload()},
    )
    objection = Objection.objects.get()
    client.force_login(uni.student_lit.user)
    rec = record(uni.form, "学生公寓")
    assert client.get(f"/me/steps/{rec.id}/message/").status_code == 404
    assert (
        client.post(f"/me/steps/{rec.id}/message/", {"kind": "done", "message": "x"}).status_code
        == 404
    )
    assert client.get(f"/me/messages/{objection.id}/attachment/").status_code == 404
    assert "mine" not in client.get("/me/").content.decode()
    assert Objection.objects.count() == 1


# certificate and verification


def verify_url(html: str) -> str:
    return re.search(r"<code>https?://[^/]+(/verify/[^<]+/)</code>", html).group(1)


def test_certificate_printable_with_qr_and_verify_as_of_now(uni, client):
    form = complete_form(uni)
    client.force_login(form.student.user)
    response = client.get(f"/me/certificate/{uni.batch.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "毕业生离校证明" in html and "陈小明" in html and "2022000002" in html
    assert "<svg" in html and "扫码核验" in html
    for title in ("图书馆", "财务处", "院系离校"):
        assert title in html
    url = verify_url(html)
    assert url == f"/verify/{tokens.make(form.id)}/"

    client.logout()
    shown = client.get(url)
    assert shown.status_code == 200 and shown["Cache-Control"].startswith("max-age=0")
    text = shown.content.decode()
    assert "已办结" in text and "陈*明" in text and "2022000002" in text and uni.batch.name in text
    assert "陈小明" not in text and form.student.id_number_masked not in text

    services.revoke_record(
        services.Actor(uni.office, "admin"), record(form, "图书馆").id, "补录欠书"
    )
    text = client.get(url).content.decode()
    assert "未办结" in text and "已办结" not in text


def test_forged_or_altered_token_is_invalid(uni, client):
    form = complete_form(uni)
    good = tokens.make(form.id)
    other = complete_form(uni, "2022000004", "何同学")
    altered = f"{other.id}.{good.split('.', 1)[1]}"
    for token in (altered, good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "1.abc", "xyz"):
        response = client.get(f"/verify/{token}/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "证明无效" in html and "陈小明" not in html and "何同学" not in html


def test_incomplete_form_has_no_certificate(uni, client):
    client.force_login(uni.student.user)
    response = client.get(f"/me/certificate/{uni.batch.id}/")
    assert response.status_code == 409
    assert "尚未办结" in response.content.decode() and "<svg" not in response.content.decode()


def test_certificate_of_another_student_or_batch_is_404(uni, client):
    complete_form(uni)
    other = f.batch(uni.category, name="别的批次")
    client.force_login(uni.student_lit.user)
    assert client.get(f"/me/certificate/{other.id}/").status_code == 404
    client.force_login(uni.student.user)
    assert client.get(f"/me/certificate/{other.id}/").status_code == 404
    assert client.get("/me/certificate/999999/").status_code == 404


# surfaces


@pytest.mark.parametrize("path", ["/desk/", "/console/"])
def test_student_gets_403_on_staff_surfaces(uni, client, path):
    client.force_login(uni.student.user)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("who", ["library", "counselor_cs", "office", "outsider"])
def test_staff_do_not_reach_student_pages(uni, client, who):
    client.force_login(getattr(uni, who))
    for path in (
        "/me/",
        f"/me/certificate/{uni.batch.id}/",
        f"/me/survey/{uni.form.id}/",
        f"/me/steps/{record(uni.form, '图书馆').id}/message/",
    ):
        assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_login_but_verify_is_open(uni, client):
    form = complete_form(uni)
    assert client.get(f"/me/certificate/{uni.batch.id}/").status_code == 302
    assert client.get(f"/verify/{tokens.make(form.id)}/").status_code == 200
