"""The desk's pages: search in scope, one student's form, pass/revoke in place, the final gate."""

import io

import pytest
from python_calamine import load_workbook

from lixiao.clearance.models import Event, State
from tests import factories as f
from tests.conftest import record
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def numbers(response) -> list[str]:
    return [f.student.student_number for f in response.context["page"].object_list]


def test_home_lists_my_batches_and_no_grant_gets_whom_to_ask(uni, as_user):
    page = as_user(uni.dorm).get("/desk/")
    assert page.status_code == 200 and uni.batch.name in page.content.decode()
    assert desk_url(uni.batch) in page.content.decode()
    f.grant(uni.batch, "图书馆", uni.outsider)  # outsider becomes a handler, then loses it
    from lixiao.clearance.models import Grant

    Grant.objects.filter(user=uni.outsider).update(ends_on="2000-01-01")
    page = as_user(uni.outsider).get("/desk/")
    assert "请联系学生离校工作主管部门" in page.content.decode()


def test_search_by_number_prefix_name_and_id_number(uni, as_user):
    c = as_user(uni.library)
    assert numbers(c.get(desk_url(uni.batch), {"q": "2022000001"})) == ["2022000001"]
    assert numbers(c.get(desk_url(uni.batch), {"q": "202200000"})) == [
        "2022000001",
        "2022000003",
        "2022000005",
    ]
    assert numbers(c.get(desk_url(uni.batch), {"q": "林"})) == ["2022000003"]
    # A full ID number is searched by POST and never echoed: the box and links show it masked.
    page = c.post(desk_url(uni.batch), {"q": f.id_number(1)})
    assert numbers(page) == ["2022000001"]
    body = page.content.decode()
    assert f.id_number(1) not in body and f.id_number(1)[:6] + "*" in body
    assert page.context["query"] == "q=2022000001"  # paging and export follow the student found


def test_counselor_sees_only_own_college(uni, as_user):
    c = as_user(uni.counselor_cs)
    assert numbers(c.get(desk_url(uni.batch))) == ["2022000001", "2022000005"]
    assert numbers(c.get(desk_url(uni.batch), {"q": "2022000003"})) == []


def test_advanced_filters_combine(uni, as_user):
    c = as_user(uni.counselor_cs)
    step = record(uni.form, "组织关系转移").step
    page = c.get(desk_url(uni.batch), {"political_status": "中共党员", f"s{step.id}": "pending"})
    assert numbers(page) == ["2022000001"]
    page = c.get(desk_url(uni.batch), {f"s{step.id}": "not_required", "completed": "no"})
    assert numbers(page) == ["2022000005"]
    assert numbers(as_user(uni.office).get(desk_url(uni.batch), {"college": uni.lit.id})) == [
        "2022000003"
    ]


def test_rows_show_my_steps_states_only(uni, as_user):
    page = as_user(uni.dorm).get(desk_url(uni.batch), {"q": "2022000001"})
    row = page.context["page"].object_list[0]
    assert [c.title for c in row.cells] == ["学生公寓", "校友会登记"]
    assert "学生公寓：未办理" in page.content.decode()


def test_htmx_search_returns_only_the_results(uni, as_user):
    page = as_user(uni.dorm).get(desk_url(uni.batch), {"q": "林"}, HTTP_HX_TARGET="results", **HX)
    body = page.content.decode()
    assert "<html" not in body and "2022000003" in body


def test_pagination(uni, as_user):
    for i in range(60):
        f.enrolled(uni.batch, f"2023{i:06d}", f"学生{i}", uni.lit)
    c = as_user(uni.library)
    first = c.get(desk_url(uni.batch), {"q": "2023"})
    assert first.context["page"].paginator.count == 60 and len(numbers(first)) == 50
    assert numbers(c.get(desk_url(uni.batch), {"q": "2023", "page": 2}))[-1] == "2023000059"


def test_detail_shows_whole_form_with_others_read_only(uni, as_user):
    page = as_user(uni.dorm).get(desk_url(uni.batch, f"f/{uni.form.id}/"))
    body = page.content.decode()
    assert page.status_code == 200
    for title in ("图书馆", "财务处", "学生公寓", "组织关系转移", "院系离校"):
        assert title in body
    assert page.context["handleable"] == {
        record(uni.form, "学生公寓").step_id,
        record(uni.form, "校友会登记").step_id,
    }
    assert f"/r/{record(uni.form, '学生公寓').id}/pass/" in body
    assert f"/r/{record(uni.form, '图书馆').id}/pass/" not in body


def test_pass_and_revoke_in_place_with_note(uni, as_user):
    c = as_user(uni.dorm)
    rec = record(uni.form, "学生公寓")
    response = c.post(desk_url(uni.batch, f"r/{rec.id}/pass/"), {"note": "钥匙已交"}, **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "stats-changed"
    assert "已办理通过" in response.content.decode() and "<html" not in response.content.decode()
    rec.refresh_from_db()
    assert rec.state == State.PASSED and rec.note == "钥匙已交" and rec.source == "desk"
    response = c.post(desk_url(uni.batch, f"r/{rec.id}/revoke/"), {}, **HX)
    rec.refresh_from_db()
    assert rec.state == State.PENDING and "已撤销" in response.content.decode()


def test_final_step_refused_with_pending_steps_named(uni, as_user):
    c = as_user(uni.counselor_cs)
    rec = record(uni.form, "院系离校")
    response = c.post(desk_url(uni.batch, f"r/{rec.id}/pass/"), {}, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and "尚未通过" in body
    for title in ("图书馆", "财务处", "学生公寓", "组织关系转移"):
        assert title in body.split("尚未通过")[1]
    assert "HX-Trigger" not in response
    rec.refresh_from_db()
    assert rec.state == State.PENDING


def test_plain_post_without_htmx_redirects_with_message(uni, as_user):
    c = as_user(uni.counselor_cs)
    rec = record(uni.form, "院系离校")
    response = c.post(desk_url(uni.batch, f"r/{rec.id}/pass/"), {}, follow=True)
    assert "尚未通过" in response.content.decode()


def test_closed_window_refuses_handlers_with_sentence(uni, as_user):
    from datetime import timedelta

    from django.utils import timezone

    uni.batch.closes_at = timezone.now() - timedelta(hours=1)
    uni.batch.opens_at = timezone.now() - timedelta(days=2)
    uni.batch.save()
    rec = record(uni.form, "学生公寓")
    response = as_user(uni.dorm).post(desk_url(uni.batch, f"r/{rec.id}/pass/"), {}, **HX)
    assert "已于" in response.content.decode() and "结束办理" in response.content.decode()
    rec.refresh_from_db()
    assert rec.state == State.PENDING


def test_export_is_scoped_masked_neutralised_and_audited(uni, as_user):
    evil = f.enrolled(uni.batch, "2022000009", '=HYPERLINK("x")', uni.cs, seed=9)
    response = as_user(uni.counselor_cs).get(desk_url(uni.batch, "export.xlsx"))
    assert response.status_code == 200
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:2] == ["学号", "姓名"] and rows[0][-3:] == [
        "组织关系转移",
        "院系离校",
        "办结情况",
    ]
    assert sorted(r[0] for r in rows[1:]) == ["2022000001", "2022000005", "2022000009"]
    assert '\'=HYPERLINK("x")' in [r[1] for r in rows[1:]]
    flat = " ".join(str(c) for r in rows for c in r)
    assert f.id_number(1) not in flat and f.id_number(1)[:6] + "************" in flat
    event = Event.objects.get(action="desk.export")
    assert event.actor == uni.counselor_cs and event.data["rows"] == 3
    assert evil.student.name.startswith("=")


def test_stats_panel_counts_scope_and_today(uni, as_user):
    c = as_user(uni.counselor_cs)
    rows = dict(
        (s.step.title, (s, today))
        for s, today in c.get(desk_url(uni.batch, "stats/")).context["rows"]
    )
    assert rows["组织关系转移"][0].applicable == 1 and rows["院系离校"][0].applicable == 2
    f.pass_prerequisites(uni.form, uni.office)
    c.post(desk_url(uni.batch, f"r/{record(uni.form, '院系离校').id}/pass/"), {}, **HX)
    rows = dict(
        (s.step.title, (s, today))
        for s, today in c.get(desk_url(uni.batch, "stats/")).context["rows"]
    )
    final, today = rows["院系离校"]
    assert (final.passed, final.pending, final.percent, today) == (1, 1, 50.0, 1)
    assert rows["组织关系转移"][1] == 1  # passed today by the office, in my scope
    # The other college's counselor sees none of it.
    lit = dict(
        (s.step.title, (s, t))
        for s, t in as_user(uni.counselor_lit).get(desk_url(uni.batch, "stats/")).context["rows"]
    )
    assert lit["院系离校"][0].passed == 0 and lit["院系离校"][1] == 0


def test_page_polls_stats_and_listens_for_own_changes(uni, as_user):
    body = as_user(uni.dorm).get(desk_url(uni.batch)).content.decode()
    assert 'hx-trigger="load, every 5s, stats-changed from:body"' in body


def test_recent_lists_my_latest_actions(uni, as_user):
    c = as_user(uni.dorm)
    rec = record(uni.form, "学生公寓")
    c.post(desk_url(uni.batch, f"r/{rec.id}/pass/"), {"note": "ok"}, **HX)
    c.post(desk_url(uni.batch, f"r/{rec.id}/revoke/"), {}, **HX)
    events = c.get(desk_url(uni.batch, "recent/")).context["events"]
    assert [(e.from_state, e.to_state, e.source) for e in events] == [
        ("passed", "pending", "desk"),
        ("pending", "passed", "desk"),
    ]
    body = c.get(desk_url(uni.batch, "recent/")).content.decode()
    assert "2022000001 陈同学" in body and "学生公寓" in body
    assert as_user(uni.library).get(desk_url(uni.batch, "recent/")).context["events"] == []


def test_search_page_queries_do_not_grow_with_rows(uni, as_user, django_assert_max_num_queries):
    c = as_user(uni.dorm)
    c.get(desk_url(uni.batch))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        c.get(desk_url(uni.batch))
    for i in range(30):
        f.enrolled(uni.batch, f"2023{i:06d}", f"学生{i}", uni.lit)
    with django_assert_max_num_queries(len(few)):
        c.get(desk_url(uni.batch))


def test_detail_page_queries_do_not_grow_with_steps_of_others(
    uni, as_user, django_assert_max_num_queries
):
    c = as_user(uni.counselor_cs)
    url = desk_url(uni.batch, f"f/{uni.form.id}/")
    c.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        c.get(url)
    from lixiao.clearance import services
    from lixiao.clearance.models import OwnerType, Step

    for i in range(5):
        step = Step.objects.create(
            category=uni.category, title=f"新环节{i}", owner_type=OwnerType.COLLEGE, order=10 + i
        )
        services.add_step_records(services.Actor.system("admin"), step)
    with django_assert_max_num_queries(len(few)):
        assert c.get(url).status_code == 200


def test_home_links_delegation_for_leads_and_change_requests_for_departments(uni, as_user):
    from lixiao.clearance.models import Grant

    page = as_user(uni.library).get("/desk/").content.decode()
    assert "环节变更申请" in page and "院系人员授权" not in page
    page = as_user(uni.counselor_cs).get("/desk/").content.decode()
    assert "院系人员授权" not in page and "环节变更申请" not in page
    Grant.objects.filter(user=uni.counselor_cs).update(is_lead=True)
    assert "院系人员授权" in as_user(uni.counselor_cs).get("/desk/").content.decode()


def test_college_filter_lists_a_new_or_renamed_college_at_once(uni, as_user):
    """The college options are cached; a change through the models drops them."""
    from lixiao.directory.models import College

    client = as_user(uni.office)
    page = client.get(desk_url(uni.batch)).content.decode()
    assert "新设学院" not in page
    college = College.objects.create(code="Z99", name="新设学院")
    assert "新设学院" in client.get(desk_url(uni.batch)).content.decode()
    college.name = "更名学院"
    college.save()
    page = client.get(desk_url(uni.batch)).content.decode()
    assert "更名学院" in page and "新设学院" not in page


def test_college_filter_offers_only_the_colleges_a_counselor_reaches(uni, as_user):
    def options(user):
        page = as_user(user).get(desk_url(uni.batch))
        html = page.content.decode()
        select = html[
            html.index('id="id_college"') : html.index("</select>", html.index('id="id_college"'))
        ]
        return select

    mine = options(uni.counselor_cs)
    assert "计算机与信息科学学院" in mine and "文学院" not in mine
    everyone = options(uni.dorm)  # a school-wide department handler
    assert "计算机与信息科学学院" in everyone and "文学院" in everyone
    # Asking for another college by URL is refused as a filter, and shows nobody from it.
    page = as_user(uni.counselor_cs).get(desk_url(uni.batch), {"college": uni.lit.id})
    assert "2022000003" not in page.content.decode()


def test_stats_panel_shows_each_deadline_and_marks_an_overdue_backlog(uni, as_user):
    from datetime import timedelta

    from django.utils import timezone

    from lixiao.clearance.models import Step

    today = timezone.localdate()
    Step.objects.filter(category=uni.category, title="学生公寓").update(
        deadline=today - timedelta(days=1)
    )
    Step.objects.filter(category=uni.category, title="校友会登记").update(
        deadline=today + timedelta(days=5)
    )
    c = as_user(uni.dorm)
    body = c.get(desk_url(uni.batch, "stats/")).content.decode()
    row = body.split(f'data-step="{record(uni.form, "学生公寓").step_id}"', 1)[1].split("</tr>", 1)[
        0
    ]
    assert f"截止 {today - timedelta(days=1):%Y-%m-%d}" in row and "已过截止日期" in row
    assert "stat-pending text-danger" in row
    other = body.split(f'data-step="{record(uni.form, "校友会登记").step_id}"', 1)[1].split(
        "</tr>", 1
    )[0]
    assert f"截止 {today + timedelta(days=5):%Y-%m-%d}" in other and "text-danger" not in other
    assert "已过截止日期" in c.get("/desk/").content.decode()  # the home page's table too
    # Once nobody in reach is pending, a passed deadline is no longer a backlog.
    for form in (uni.form, uni.form_lit, uni.form_cs2):
        c.post(desk_url(uni.batch, f"r/{record(form, '学生公寓').id}/pass/"), {}, **HX)
    body = c.get(desk_url(uni.batch, "stats/")).content.decode()
    assert f"截止 {today - timedelta(days=1):%Y-%m-%d}" in body and "已过截止日期" not in body


def test_every_link_on_the_search_page_leads_somewhere(uni, as_user):
    """The page writes its links under the batch's URL; each must resolve for this handler."""
    import re

    client = as_user(uni.dorm)
    html = client.get(desk_url(uni.batch), {"q": "2022000001"}).content.decode()
    links = set(re.findall(r'(?:href|hx-get|action)="(/desk/b/[^"?#]*)', html))
    assert {
        desk_url(uni.batch, tail)
        for tail in (
            "",
            "import/",
            "objections/",
            "stats/",
            "recent/",
            "bulk/",
            "export.xlsx",
            f"f/{uni.form.id}/",
        )
    } <= links
    for link in links - {desk_url(uni.batch, "bulk/")}:  # bulk takes a POST
        assert client.get(link).status_code == 200, link


def test_a_nul_character_in_the_search_is_any_not_a_server_error(uni, as_user):
    client = as_user(uni.dorm)
    for params in ({"q": "20220\x00"}, {"major": "计算\x00"}, {"class_name": "\x00"}):
        response = client.get(desk_url(uni.batch), params)
        assert response.status_code == 200, params
