"""Role choice after login, switching in the header, and each role's home."""

import pytest

from lixiao.directory.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def login(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": f.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response.url)


@pytest.fixture
def counselor_office(uni):
    User.objects.filter(pk=uni.counselor_cs.pk).update(is_office=True)
    return uni.counselor_cs


@pytest.mark.parametrize(
    ("username", "home"),
    [("2022000001", "/me/"), ("L2001", "/desk/"), ("T1001", "/desk/"), ("A0001", "/console/")],
)
def test_one_role_lands_on_its_home(uni, client, username, home):
    landing = login(client, username)
    assert landing.status_code == 302 and landing.url == home
    assert client.get(home).status_code == 200


def test_auditor_lands_on_the_console(uni, client):
    f.staff("U0001", "审计员", is_auditor=True)
    assert login(client, "U0001").url == "/console/"


def test_several_roles_choose_after_login(counselor_office, client):
    landing = login(client, "T1001")
    assert landing.url == "/accounts/role/"
    page = client.get("/accounts/role/").content.decode()
    assert "选择本次使用的身份" in page
    assert 'value="counselor"' in page and 'value="office"' in page
    assert 'value="student"' not in page
    chosen = client.post("/accounts/role/", {"role": "office"})
    assert chosen.status_code == 302 and chosen.url == "/console/"
    assert client.get("/").url == "/accounts/"
    assert client.get("/accounts/").url == "/console/"


def test_header_switches_role(counselor_office, client):
    login(client, "T1001")
    client.post("/accounts/role/", {"role": "office"})
    console = client.get("/console/").content.decode()
    assert 'aria-label="切换身份"' in console
    assert '<option value="office" selected>' in console
    switched = client.post("/accounts/role/", {"role": "counselor"})
    assert switched.url == "/desk/"
    assert client.get("/accounts/").url == "/desk/"
    assert '<option value="counselor" selected>' in client.get("/desk/").content.decode()


def test_a_role_not_held_cannot_be_chosen(uni, client):
    login(client, "L2001")
    response = client.post("/accounts/role/", {"role": "office"}, follow=True)
    assert "请选择您拥有的身份" in response.content.decode()
    assert client.get("/accounts/").url == "/desk/"
    assert client.get("/console/").status_code == 403


def test_one_role_shows_a_badge_not_a_switch(uni, client):
    login(client, "L2001")
    page = client.get("/desk/").content.decode()
    assert "学校离校办理人员" in page and 'aria-label="切换身份"' not in page


def test_no_role_page_says_whom_to_ask(uni, client):
    landing = login(client, "X9999")
    assert landing.status_code == 200
    html = landing.content.decode()
    assert "暂未获得离校系统的任何身份" in html and "学生离校工作主管部门" in html


def test_role_page_needs_login(client):
    response = client.get("/accounts/role/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
