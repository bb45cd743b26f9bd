"""Who reaches which surface (deny by default), what each landing page shows, and its query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lixiao.clearance import services
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db

SURFACES = ("/me/", "/desk/", "/console/")
HANDLERS = ("library", "finance", "dorm", "counselor_cs", "counselor_lit")


def expect(client, user, allowed: set[str]):
    client.force_login(user)
    for path in SURFACES:
        status = client.get(path).status_code
        assert status == (200 if path in allowed else 403), (user.username, path, status)


@pytest.mark.parametrize("path", SURFACES)
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"


def test_student_reaches_only_the_portal(uni, client):
    expect(client, uni.student.user, {"/me/"})


@pytest.mark.parametrize("who", HANDLERS)
def test_handlers_reach_only_the_desk(uni, client, who):
    expect(client, getattr(uni, who), {"/desk/"})


def test_office_reaches_console_and_desk(uni, client):
    expect(client, uni.office, {"/console/", "/desk/"})


def test_outsider_sees_no_role_page_and_no_surface(uni, client):
    expect(client, uni.outsider, set())
    home = client.get("/", follow=True)
    assert home.status_code == 200
    assert "暂未获得离校系统的任何身份" in home.content.decode()


def test_refusal_is_a_friendly_chinese_page(uni, client):
    client.force_login(uni.student.user)
    response = client.get("/desk/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "您没有访问此页面的权限" in html and "返回我的首页" in html
    assert "Forbidden" not in html


def test_unknown_page_is_a_friendly_chinese_page(uni, client):
    client.force_login(uni.student.user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "找不到您要的页面" in response.content.decode()


def test_student_sees_own_form_with_state_words(uni, client):
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    client.force_login(uni.student.user)
    html = client.get("/me/").content.decode()
    assert "2026届本科生离校" in html and "陈同学" in html and "2022000001" in html
    for title in ("图书馆", "财务处", "学生公寓", "组织关系转移", "院系离校"):
        assert title in html
    assert "已办理" in html and "未办理" in html
    assert "周同学" not in html and "林同学" not in html


def test_non_member_sees_not_required_step(uni, client):
    client.force_login(uni.student_cs2.user)
    html = client.get("/me/").content.decode()
    assert "无需办理" in html  # 组织关系转移 applies only to party members
    assert "陈同学" not in html


def test_student_of_disabled_batch_sees_notice(uni, client):
    uni.batch.enabled = False
    uni.batch.save()
    client.force_login(uni.student.user)
    html = client.get("/me/").content.decode()
    assert "您目前不在任何离校批次的名单中" in html and "院系离校" not in html


def rows(html: str) -> list[str]:
    return [r.split("</tr>")[0] for r in html.split("<tr>")[2:]]


def test_desk_shows_only_granted_steps_with_numbers(uni, client):
    services.pass_record(services.Actor(uni.library, "desk"), record(uni.form, "图书馆").id)
    client.force_login(uni.library)
    html = client.get("/desk/").content.decode()
    assert "2026届本科生离校" in html
    table = rows(html)
    assert len(table) == 1
    cells = [c.split(">", 1)[1].split("<")[0] for c in table[0].split("<td")[1:]]
    assert cells == ["图书馆", "3", "1", "2", "33.3%"]
    assert "财务处" not in html


def test_counselor_desk_counts_only_their_college(uni, client):
    client.force_login(uni.counselor_cs)
    table = rows(client.get("/desk/").content.decode())
    cells = [[c.split(">", 1)[1].split("<")[0] for c in r.split("<td")[1:]] for r in table]
    # CS has two students; only 陈同学 is a party member.
    assert cells == [["组织关系转移", "1", "0", "1", "0.0%"], ["院系离校", "2", "0", "2", "0.0%"]]


def test_my_students_grant_counts_once(uni, client):
    f.grant(uni.batch, "学生公寓", uni.counselor_cs, scope="mine")
    f.grant(uni.batch, "院系离校", uni.counselor_cs, scope="mine")  # overlaps the college grant
    services.pass_record(services.Actor(uni.dorm, "desk"), record(uni.form, "学生公寓").id)
    client.force_login(uni.counselor_cs)
    table = rows(client.get("/desk/").content.decode())
    cells = [[c.split(">", 1)[1].split("<")[0] for c in r.split("<td")[1:]] for r in table]
    assert cells == [
        ["学生公寓", "2", "1", "1", "50.0%"],
        ["组织关系转移", "1", "0", "1", "0.0%"],
        ["院系离校", "2", "0", "2", "0.0%"],
    ]


def test_console_lists_batches_with_completion(uni, client):
    f.batch(uni.category, name="2026届研究生离校", student_type="硕士研究生", enabled=False)
    client.force_login(uni.office)
    html = client.get("/console/").content.decode()
    assert "2026届本科生离校" in html and "0 / 3" in html
    assert "2026届研究生离校" in html and "未启用" in html


# Query counts: a page's cost must not grow with the number of forms, steps or batches.


def count(client, path) -> int:
    # The first request after login also refreshes the session: not the page's own cost.
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def more_batches(uni, n=3, first=0):
    made = []
    for i in range(first, first + n):
        b = f.batch(uni.category, name=f"第{i}批")
        f.enrol(b, [uni.student, uni.student_cs2], counselor=uni.counselor_cs)
        for title in ("图书馆", "财务处", "学生公寓"):
            f.grant(b, title, uni.library)
        f.grant(b, "院系离校", uni.counselor_cs, scope="college", college=uni.cs)
        f.grant(b, "组织关系转移", uni.counselor_cs, scope="mine")
        made.append(b)
    return made


def test_portal_query_count_does_not_grow_with_forms(uni, client):
    client.force_login(uni.student.user)
    one = count(client, "/me/")
    more_batches(uni, 4)
    assert count(client, "/me/") == one


@pytest.mark.parametrize("who", ["library", "counselor_cs", "office"])
def test_desk_query_count_does_not_grow_with_steps_and_batches(uni, client, who):
    client.force_login(getattr(uni, who))
    more_batches(uni, 1)  # every kind of grant (school, college, my students) once …
    one = count(client, "/desk/")
    more_batches(uni, 4, first=1)  # … then many more batches and steps
    assert count(client, "/desk/") == one


def test_console_query_count_does_not_grow_with_batches(uni, client):
    client.force_login(uni.office)
    one = count(client, "/console/")
    more_batches(uni, 4)
    assert count(client, "/console/") == one
