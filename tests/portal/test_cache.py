"""The cached forms section of /me/: a warm cache never shows an old state, nor another's page."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Source, State, Step
from lixiao.directory.models import Department
from lixiao.directory.services import StudentRow, upsert_students
from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.services import rows as source_rows
from lixiao.integrations.services import sync
from lixiao.objections import services as objections
from lixiao.portal import page_cache
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


CSRF = re.compile(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+')


def tokens(html: str) -> list[str]:
    return [m.group(0) for m in CSRF.finditer(html)]


def me(client) -> str:
    response = client.get("/me/")
    assert response.status_code == 200
    return response.content.decode()


def step_html(html: str, title: str) -> str:
    start = html.index(f'<h3 class="h6 mb-1">{title}')
    return html[start : html.index("</li>\n", start)]


def badge(html: str, title: str) -> str:
    """The state word of one step, as the student reads it."""
    return step_html(html, title).split(f'aria-label="{title}：', 1)[1].split('"', 1)[0]


@pytest.fixture
def warm(uni, client):
    """The student logged in, with the page already cached (two visits)."""
    client.force_login(uni.student.user)
    me(client)
    me(client)
    return client


def test_second_visit_is_served_from_the_cache_with_fewer_queries(
    uni, warm, django_assert_max_num_queries
):
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        first = me(warm)
    # The cold visit builds the section: records, history and messages on top of the forms.
    with django_assert_max_num_queries(len(cold.captured_queries) - 3):
        second = me(warm)
    # The same page, with a CSRF token of its own request (it is never inside the cached part).
    assert tokens(first) and tokens(first) != tokens(second)
    assert CSRF.sub("", second) == CSRF.sub("", first)


def test_pass_and_revoke_show_at_once(uni, warm):
    library = record(uni.form, "图书馆")
    assert badge(me(warm), "图书馆") == "未办理"
    services.pass_record(services.Actor(uni.library, Source.DESK), library.id)
    assert badge(me(warm), "图书馆") == "已办理"
    services.revoke_record(services.Actor(uni.library, Source.DESK), library.id, "图书有污损")
    html = me(warm)
    assert badge(html, "图书馆") == "未办理"
    assert "图书有污损" in step_html(html, "图书馆")


def test_completion_shows_at_once(uni, warm):
    f.pass_prerequisites(uni.form, uni.office)
    assert "未办结" in me(warm)
    final = record(uni.form, "院系离校")
    services.pass_record(services.Actor(uni.office, Source.ADMIN), final.id)
    html = me(warm)
    assert "已办结" in html and "打印离校证明" in html


def test_a_reason_only_update_by_sync_shows_at_once(uni, warm):
    finance = IntegrationSource.objects.get(code="finance")
    source_rows.store(finance, [source_rows.Row("2022000001", False, "欠费 1200.00 元", None)])
    sync.sync_source(finance)
    assert "欠费 1200.00 元" in step_html(me(warm), "财务处")
    source_rows.store(finance, [source_rows.Row("2022000001", False, "欠费 800.00 元", None)])
    sync.sync_source(finance)
    assert record(uni.form, "财务处").state == State.PENDING  # the state stayed
    html = step_html(me(warm), "财务处")
    assert "欠费 800.00 元" in html and "1200.00" not in html


def test_an_objection_and_its_reply_show_at_once(uni, warm):
    objection = objections.submit(
        uni.student.user, record(uni.form, "学生公寓"), "done", "钥匙已交给宿管阿姨"
    )
    assert "钥匙已交给宿管阿姨" in step_html(me(warm), "学生公寓")
    objections.reply(uni.dorm, objection, "请携带钥匙到公寓中心")
    assert "请携带钥匙到公寓中心" in step_html(me(warm), "学生公寓")
    objections.dismiss(uni.dorm, objection, "宿舍钥匙尚未交还")
    assert "宿舍钥匙尚未交还" in step_html(me(warm), "学生公寓")


def office(uni) -> services.Actor:
    return services.Actor(user=uni.office, source="admin")


def test_step_instructions_changed_in_the_console_show_at_once(uni, warm):
    assert "交还宿舍钥匙" in step_html(me(warm), "学生公寓")
    step = Step.objects.get(category=uni.category, title="学生公寓")
    services.update_step(office(uni), step, {"instructions": "交还钥匙并清空房间"}, step.condition)
    html = step_html(me(warm), "学生公寓")
    assert "交还钥匙并清空房间" in html and "交还宿舍钥匙" not in html


def test_a_departments_contact_change_shows_at_once(uni, warm):
    assert "公寓中心" in step_html(me(warm), "学生公寓")
    dorm = Department.objects.get(code="DORM")
    services.save_place(office(uni), "departments", dorm, {"contact": "公寓中心 023-0003"})
    assert "公寓中心 023-0003" in step_html(me(warm), "学生公寓")


def test_a_new_survey_question_and_the_submission_show_at_once(uni, warm):
    services.set_survey_enabled(office(uni), uni.category, True)
    assert "填写调查问卷" not in me(warm)  # a survey without questions is not offered
    question = services.save_question(
        office(uni), uni.category, None, {"text": "您对离校服务满意吗？", "kind": "text"}
    )
    assert "填写调查问卷" in me(warm)
    assert services.submit_survey(uni.student.user, uni.form, {str(question.id): "满意"})
    html = me(warm)
    assert "填写调查问卷" not in html and "调查问卷（已于" in html


def test_student_attributes_changed_by_a_roster_import_show_at_once(uni, warm):
    s = uni.student
    html = me(warm)
    assert uni.cs.name in step_html(html, "院系离校")  # a college-owned step names the college
    row = StudentRow(
        student_number=s.student_number, name=s.name, id_number="", college_id=uni.lit.id,
        student_type=s.student_type, gender=s.gender, major="软件工程", class_name=s.class_name,
        political_status=s.political_status, dormitory=s.dormitory, phone=s.phone,
    )  # fmt: skip
    upserted = upsert_students([row])
    # What the roster import does next: the core re-reads the students' attributes.
    services.student_attributes_changed(
        services.Actor.system(Source.ROSTER, uni.office), upserted.changed_ids
    )
    html = me(warm)
    assert "软件工程" in html
    assert uni.lit.name in step_html(html, "院系离校")


def test_a_college_renamed_shows_at_once(uni, warm):
    assert uni.cs.name in step_html(me(warm), "院系离校")
    services.save_place(office(uni), "colleges", uni.cs, {"name": "计算机学院"})
    assert "计算机学院" in step_html(me(warm), "院系离校")


def test_the_window_closing_shows_at_once(uni, warm):
    assert "结束办理" not in me(warm)
    uni.batch.closes_at = timezone.now() - timedelta(minutes=1)
    uni.batch.opens_at = timezone.now() - timedelta(days=2)
    uni.batch.save()
    html = me(warm)
    assert "本批次已于" in html and "提出异议" not in html


def test_another_students_warm_page_is_never_served(uni, client):
    services.pass_record(services.Actor(uni.library, Source.DESK), record(uni.form, "图书馆").id)
    client.force_login(uni.student.user)
    assert badge(me(client), "图书馆") == "已办理"
    client.force_login(uni.student_cs2.user)
    html = me(client)
    assert uni.student_cs2.name in html and uni.student.name not in html
    assert badge(html, "图书馆") == "未办理"


def test_an_unreachable_cache_still_serves_the_page(uni, client, monkeypatch):
    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("redis: connection refused")

        set = get

    monkeypatch.setattr(page_cache, "cache", Down())
    services.pass_record(services.Actor(uni.library, Source.DESK), record(uni.form, "图书馆").id)
    client.force_login(uni.student.user)
    assert badge(me(client), "图书馆") == "已办理"


def test_the_key_turns_with_the_day_so_a_deadline_passing_shows(uni, warm):
    from lixiao.portal import pages

    forms = pages.student_forms(uni.student.user)
    now = timezone.now()
    assert page_cache.key(uni.student.user, forms, now) == page_cache.key(
        uni.student.user, forms, now
    )
    assert page_cache.key(uni.student.user, forms, now) != page_cache.key(
        uni.student.user, forms, now + timedelta(days=1)
    )
