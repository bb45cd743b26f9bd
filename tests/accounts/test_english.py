"""English UI for the shared layout, accounts and the inbox; Chinese stays the default.

Chinese browsers send Accept-Language zh-CN (Django maps it to zh-hans); the header's
language switch posts to Django's set_language, which keeps the choice in a cookie.
"""

import re

import pytest
from django.conf import settings

from lixiao.directory.models import User
from lixiao.notify import services as notify
from tests import factories as f

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.8"}


def html_of(response) -> str:
    assert response.status_code in (200, 403, 404, 429), response.status_code
    return response.content.decode()


def lang_attr(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def switcher(html: str) -> str:
    """The header's language form (action /i18n/setlang/), or an assertion error."""
    match = re.search(r'<form method="post" action="/i18n/setlang/".*?</form>', html, re.S)
    assert match, "the language switch is missing from the header"
    return match.group(0)


# ---- the login page and the switch ------------------------------------------------------------


def test_login_page_is_chinese_by_default_and_for_chinese_browsers(client):
    for headers in ({}, ZH):
        html = html_of(client.get("/accounts/login/", **headers))
        assert lang_attr(html) == "zh-hans"
        assert "登录离校系统" in html and "学号/职工号" in html and "初始密码" in html
        assert "<title>登录 · Lixiao 离校</title>" in html
        assert "Log in" not in html and "Student or staff number" not in html


def test_login_page_in_english(client):
    html = html_of(client.get("/accounts/login/", **EN))
    assert lang_attr(html) == "en"
    assert "<title>Log in · Lixiao</title>" in html
    assert "Log in to departure clearance" in html
    assert "Student or staff number" in html and "Password" in html
    assert "First time here? Use your initial password" in html
    assert "Skip to main content" in html
    for chinese in ("登录离校系统", "学号/职工号", "初始密码", "跳到正文", "页头"):
        assert chinese not in html


def test_the_switch_is_on_the_login_page_with_each_language_in_its_own_name(client):
    form = switcher(html_of(client.get("/accounts/login/?next=/inbox/")))
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="hidden" name="next" value="/accounts/login/?next=/inbox/">' in form
    assert 'name="language"' in form and "data-autosubmit" in form
    assert re.search(r'<option value="zh-hans" lang="zh-hans" selected>简体中文</option>', form)
    assert re.search(r'<option value="en" lang="en">English</option>', form)
    # The form's own button: shown without script, and with it once keys changed the choice.
    assert "data-autosubmit-button>切换</button>" in form
    # In English the names stay the same (each in its own language); English is selected.
    form_en = switcher(html_of(client.get("/accounts/login/", **EN)))
    assert "简体中文" in form_en and re.search(r'value="en" lang="en" selected>English<', form_en)
    assert 'aria-label="Language"' in form_en


def test_choosing_english_sticks_for_the_next_page_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    # The cookie wins over a Chinese browser's Accept-Language.
    html = html_of(client.get("/accounts/login/", **ZH))
    assert lang_attr(html) == "en" and "Log in to departure clearance" in html
    assert "登录离校系统" not in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    html = html_of(client.get("/accounts/login/", **EN))
    assert lang_attr(html) == "zh-hans" and "登录离校系统" in html


def test_the_switch_refuses_another_site_as_next(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response.url


def test_wrong_password_message_in_english(uni, client):
    html = html_of(
        client.post("/accounts/login/", {"username": "L2001", "password": "nope-1A"}, **EN)
    )
    assert "Incorrect student/staff number or password" in html
    assert "学号/职工号或密码不正确" not in html
    zh = html_of(client.post("/accounts/login/", {"username": "L2001", "password": "nope-1A"}))
    assert "学号/职工号或密码不正确" in zh


def test_lockout_page_in_english(uni, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/accounts/login/", {"username": "L2001", "password": "wrong-Pass-1"}, **EN
        )
    html = html_of(response)
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in html and "wait 15 min" in html
    assert "登录失败次数过多" not in html


# ---- pages behind the login -------------------------------------------------------------------


@pytest.fixture
def two_roles(uni):
    User.objects.filter(pk=uni.counselor_cs.pk).update(is_office=True)
    return uni.counselor_cs


def test_role_choice_and_header_in_english(two_roles, client):
    client.force_login(two_roles)
    html = html_of(client.get("/accounts/role/", **EN))
    assert "Choose your role for this session" in html
    assert ">College counselor</button>" in html and ">Clearance office</button>" in html
    # The header: role switch, bell, password, log out, language.
    assert 'aria-label="Current role"' in html and 'aria-label="Switch role"' in html
    assert ">Change password</a>" in html and ">Log out</button>" in html
    assert ">Notifications</a>" in html
    switcher(html)
    for chinese in ("选择本次使用的身份", "院系辅导员", "管理员", "修改密码", "退出", "当前身份"):
        assert chinese not in html

    zh = html_of(client.get("/accounts/role/"))
    assert "选择本次使用的身份" in zh and ">院系辅导员</button>" in zh and ">退出</button>" in zh
    switcher(zh)


def test_one_role_badge_in_english(uni, client):
    client.force_login(uni.library)
    html = html_of(client.get("/inbox/", **EN))
    assert '<span class="badge text-bg-secondary">Department handler</span>' in html


def test_password_change_in_english(uni, client):
    client.force_login(uni.library)
    html = html_of(client.get("/accounts/password/", **EN))
    assert "Current password" in html and "Repeat the new password" in html
    assert "At least 8 characters." in html and "Save new password" in html
    assert "当前密码" not in html and "保存新密码" not in html

    mismatch = html_of(
        client.post(
            "/accounts/password/",
            {"current": f.PASSWORD, "new1": "Abcdefg-1", "new2": "Abcdefg-2"},
            **EN,
        )
    )
    assert "The two new passwords do not match." in mismatch
    short = html_of(
        client.post(
            "/accounts/password/", {"current": f.PASSWORD, "new1": "Ab-1", "new2": "Ab-1"}, **EN
        )
    )
    assert "The password must be at least 8 characters long." in short
    assert "密码至少需要" not in short

    done = client.post(
        "/accounts/password/",
        {"current": f.PASSWORD, "new1": "Lixiao-New-2026!", "new2": "Lixiao-New-2026!"},
        follow=True,
        **EN,
    )
    assert "Your password has been changed." in html_of(done)


def test_password_change_stays_chinese_by_default(uni, client):
    client.force_login(uni.library)
    html = html_of(client.get("/accounts/password/"))
    assert "当前密码" in html and "再次输入新密码" in html and "至少 8 个字符。" in html


def test_a_person_on_the_initial_password_can_still_switch_language(client, uni):
    newcomer = f.student("2022000099", "吴同学", uni.cs, password=None, seed=9)
    f.enrol(uni.batch, [newcomer], counselor=uni.counselor_cs)
    client.force_login(newcomer.user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/password/"})
    assert response.status_code == 302 and response.url == "/accounts/password/"
    html = html_of(client.get("/accounts/password/"))
    assert "You are still using your initial password." in html
    switcher(html)


def test_no_role_page_in_english(uni, client):
    client.force_login(uni.outsider)
    html = html_of(client.get("/accounts/", **EN))
    assert "Your account has no role in departure clearance yet" in html
    assert "您的账号暂未获得离校系统的任何身份" not in html
    assert "您的账号暂未获得离校系统的任何身份" in html_of(client.get("/accounts/"))


def test_403_and_404_in_english(uni, client):
    client.force_login(uni.student.user)
    denied = client.get("/console/", **EN)
    assert denied.status_code == 403
    html = html_of(denied)
    assert "<title>Access denied · Lixiao</title>" in html
    assert "You do not have access to this page" in html and "Back to my home page" in html
    assert "您没有访问此页面的权限" not in html
    switcher(html)
    assert "您没有访问此页面的权限" in html_of(client.get("/console/"))

    missing = client.get("/no-such-page/", **EN)
    assert missing.status_code == 404
    html = html_of(missing)
    assert "Page not found" in html and "Back to the home page" in html
    assert "找不到您要的页面" not in html
    assert "找不到您要的页面" in html_of(client.get("/no-such-page/"))


def test_inbox_and_bell_in_english(uni, client):
    notify.send([uni.student.user.pk], "图书馆已办理", "请查看离校单")
    notify.send([uni.student.user.pk], "财务处已办理")
    client.force_login(uni.student.user)
    html = html_of(client.get("/inbox/", **EN))
    assert "<title>Notifications · Lixiao</title>" in html
    assert "2 unread" in html and "Mark all as read" in html and "Mark as read" in html
    assert "Unread: " in html
    # The notifications themselves were written in Chinese and stay so.
    assert "图书馆已办理" in html
    assert "条未读" not in html and "全部标为已读" not in html
    bell = html_of(client.get("/inbox/bell/", **EN))
    assert 'aria-label="Notifications, 2 unread"' in bell and ">Notifications <span" in bell

    zh = html_of(client.get("/inbox/"))
    assert "2 条未读" in zh and "全部标为已读" in zh
    assert 'aria-label="通知，2 条未读"' in html_of(client.get("/inbox/bell/"))

    client.post("/inbox/read-all/")
    assert "No notifications." not in html_of(client.get("/inbox/", **EN))
    assert 'aria-label="Notifications"' in html_of(client.get("/inbox/bell/", **EN))


def test_empty_inbox_in_english(uni, client):
    client.force_login(uni.library)
    assert "No notifications." in html_of(client.get("/inbox/", **EN))
    assert "暂无通知。" in html_of(client.get("/inbox/"))
