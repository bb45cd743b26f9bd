"""The student's surfaces in English (Accept-Language: en); Chinese stays the default.

Office data (step titles, college names, survey questions and options, notes) is shown as
entered in either language; only the interface words change.
"""

import pytest

from lixiao.clearance import services
from lixiao.clearance.models import Step
from lixiao.demo import survey as demo_survey
from lixiao.notify.models import Notification
from lixiao.objections.models import Objection
from lixiao.portal import tokens
from tests.conftest import record
from tests.portal.conftest import PDF, complete_form, upload

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def get(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def history_of_library(uni):
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    services.revoke_record(
        services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id, "图书有污损"
    )


def test_form_page_in_english(uni, client):
    history_of_library(uni)
    client.force_login(uni.student.user)
    html = get(client, "/me/", **EN)
    assert '<html lang="en">' in html
    for text in (
        "My departure form",
        "Student number",
        "Student type",
        "ID number",
        "Handled by",
        "Show counter code",
        "Not completed",
        "<strong>0 / 6</strong> steps cleared",
        "Service window: ",
        "History (2)",
        "I have done this / Raise an objection",
        # The history line: the source and states in words (the clearance app's labels),
        # the handler's note as written.
        "Handler desk: Pending → Cleared",
        "Handler desk: Cleared → Pending, 图书有污损",
    ):
        assert text in html, text
    for chinese in (
        "我的离校单",
        "学号",
        "办理部门",
        "出示离校码",
        "环节已完成",
        "服务时间",
        "办理记录",
        "提出异议",
        "未办结",
    ):
        assert chinese not in html, chinese
    # Data stays as the office entered it.
    for data in ("图书馆", "学生公寓", "计算机与信息科学学院", "交还宿舍钥匙"):
        assert data in html, data


def test_form_page_without_header_is_chinese_and_the_cache_keeps_languages_apart(uni, client):
    client.force_login(uni.student.user)
    chinese = get(client, "/me/")
    assert "我的离校单" in chinese and "<strong>0 / 6</strong> 环节已完成" in chinese
    assert "出示离校码" in chinese and "服务时间：" in chinese
    assert "My departure form" not in chinese and "steps cleared" not in chinese
    english = get(client, "/me/", **EN)  # the forms section is cached per language
    assert "steps cleared" in english and "环节已完成" not in english
    again = get(client, "/me/")
    assert "环节已完成" in again and "steps cleared" not in again


def test_grey_step_and_empty_history_in_english(uni, client):
    Step.objects.filter(category=uni.category, title="院系离校").update(contact="")
    client.force_login(uni.student_cs2.user)
    html = get(client, "/me/", **EN)
    assert "No history yet." in html and "暂无办理记录" not in html
    assert "(optional)" in html and "（选办）" not in html


def test_survey_in_english_keeps_the_questions(uni, client):
    questions = demo_survey.create(uni.category)
    client.force_login(uni.student.user)
    assert "Fill in the survey" in get(client, "/me/", **EN)
    url = f"/me/survey/{uni.form.id}/"
    html = get(client, url, **EN)
    assert "Submit survey" in html and "can be submitted only once" in html
    assert "提交问卷" not in html and "必答题" not in html
    assert questions[0].text in html and "已签约就业" in html  # office data
    response = client.post(url, {}, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This question is required." in html and "Questions to correct: 3." in html
    assert "此题为必答题" not in html
    # Without the header the same errors are in Chinese.
    html = client.post(url, {}).content.decode()
    assert "此题为必答题" in html and "This question is required." not in html


def test_survey_answers_read_back_in_english(uni, client):
    questions = demo_survey.create(uni.category)
    single1, single2, multi, multi2, text = questions
    client.force_login(uni.student.user)
    url = f"/me/survey/{uni.form.id}/"
    data = {
        f"q{single1.id}": single1.choices[0],
        f"q{single2.id}": "满意",
        f"q{multi.id}": ["图书馆", "财务处"],
        f"q{multi2.id}": [multi2.choices[1]],
    }
    response = client.post(url, data, follow=True, **EN)
    html = response.content.decode()
    assert "Survey submitted. Thank you for taking part." in html
    assert "Your answers are below (read-only)." in html
    assert "图书馆, 财务处" in html and "(no answer)" in html
    assert "以下为您的答案" not in html and "（未作答）" not in html


def test_message_page_errors_and_success_in_english(uni, client):
    client.force_login(uni.student.user)
    rec = record(uni.form, "学生公寓")
    url = f"/me/steps/{rec.id}/message/"
    html = get(client, url, **EN)
    for text in ("Message (up to 500 characters)", "I have done this", "Objection", "Submit"):
        assert text in html, text
    assert "留言（500 字以内）" not in html and "我已办理" not in html
    bad = client.post(
        url, {"kind": "done", "message": "x", "attachment": upload(b"GIF89a..", "a.png")}, **EN
    )
    assert bad.status_code == 400
    assert "The attachment must be an image (PNG, JPEG) or a PDF file." in bad.content.decode()
    ok = client.post(
        url,
        {"kind": "done", "message": "钥匙已交", "attachment": upload(PDF, "a.pdf")},
        follow=True,
        **EN,
    )
    html = ok.content.decode()
    assert "Sent to the staff handling “学生公寓”." in html
    assert "Open" in html and "待处理" not in html  # the message's status, on the form
    # The handlers' notification is stored in the site's language, whoever wrote the message.
    notice = Notification.objects.get()
    assert notice.title == "陈同学（2022000001）对“学生公寓”提交了我已办理"
    objection = Objection.objects.get()
    file = client.get(f"/me/messages/{objection.id}/attachment/", **EN)
    assert f"attachment-{objection.id}.pdf" in file["Content-Disposition"]


def test_certificate_and_verification_in_english(uni, client):
    form = complete_form(uni)
    client.force_login(form.student.user)
    html = get(client, f"/me/certificate/{uni.batch.id}/", **EN)
    for text in ("Graduate departure certificate", "Scan to verify", "Date cleared", "Printed: "):
        assert text in html, text
    assert "毕业生离校证明" not in html and "扫码核验" not in html
    assert "Departure certificate verification QR code" in html  # the QR code's title
    client.logout()
    url = f"/verify/{tokens.make(form.id)}/"
    shown = get(client, url, **EN)
    assert "Departure certificate verification" in shown and "Live status as of" in shown
    assert 'data-state="complete">Completed<' in shown
    assert "离校证明核验" not in shown and "已办结" not in shown
    assert "陈*明" in shown  # the masked name
    assert "离校证明核验" in get(client, url) and "已办结" in get(client, url)
    invalid = client.get("/verify/1.abc/", **EN)
    assert invalid.status_code == 404
    text = invalid.content.decode()
    assert "Certificate not valid" in text and "证明无效" not in text


def test_pending_certificate_and_counter_code_in_english(uni, client):
    client.force_login(uni.student.user)
    pending = client.get(f"/me/certificate/{uni.batch.id}/", **EN)
    assert pending.status_code == 409
    assert "is not completed yet" in pending.content.decode()
    html = get(client, f"/me/code/{uni.form.id}/", **EN)
    assert "Counter code" in html and "Valid until" in html and "Back to my departure form" in html
    assert "有效至" not in html and "返回我的离校单" not in html
    assert "有效至" in get(client, f"/me/code/{uni.form.id}/")


def test_a_passed_deadline_in_english(uni, client):
    from datetime import timedelta

    from django.utils import timezone

    day = timezone.localdate() - timedelta(days=1)
    Step.objects.filter(category=uni.category, title="学生公寓").update(deadline=day)
    client.force_login(uni.student.user)
    html = get(client, "/me/", **EN)
    assert f"{day:%Y-%m-%d}" in html and "Past deadline" in html and "已过截止日期" not in html
