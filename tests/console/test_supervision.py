"""Supervision (跟进及督办): progress from counters, chart, slowest, longest waiting, export, reminders."""

import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import load_workbook

from lixiao.clearance.models import Event, Form, Record, Step
from lixiao.notify.models import Notification
from tests import factories as f
from tests.conftest import record

pytestmark = pytest.mark.django_db


def _complete(uni, form):
    f.pass_prerequisites(form, uni.office)
    from lixiao.clearance import services

    services.pass_record(services.Actor(uni.office, "admin"), record(form, "院系离校").id)


def test_dashboard_shows_completion_steps_colleges_chart_and_longest(office_client, uni):
    _complete(uni, uni.form)
    page = office_client.get(reverse("console:supervision", args=[uni.batch.id])).content.decode()
    assert "<strong>1</strong> / 3 人办结（33.3%）" in page
    assert "<svg" in page and "1 人</title>" in page  # the daily chart, drawn server-side
    assert "计算机与信息科学学院" in page and "文学院" in page
    # Longest waiting: the two students not complete, with their pending steps.
    assert uni.student_lit.student_number in page and uni.student_cs2.student_number in page
    assert 'state-pending me-1">学生公寓' in page
    assert "进度最慢的环节" in page


def test_export_has_the_numbers_but_no_id_numbers(office_client, uni):
    uni.student_lit.name = '=HYPERLINK("x")'
    uni.student_lit.save()
    response = office_client.get(reverse("console:supervision_export", args=[uni.batch.id]))
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    cells = [str(c) for row in rows for c in row]
    assert any("学生公寓" in c for c in cells) and "计算机与信息科学学院" in cells
    assert '\'=HYPERLINK("x")' in cells  # formula neutralised
    assert not any(uni.student.id_number_masked[:6] in c and len(c) >= 15 for c in cells)
    assert not any(f.id_number(1) in c for c in cells)
    assert Event.objects.filter(action="console.supervision.exported").exists()


def test_remind_a_step_reaches_its_handlers_and_pending_students(office_client, uni):
    step = Step.objects.get(category=uni.category, title="学生公寓")
    from lixiao.clearance import services

    services.pass_record(services.Actor(uni.office, "admin"), record(uni.form_lit, "学生公寓").id)
    response = office_client.post(
        reverse("console:supervision_remind", args=[uni.batch.id]),
        {"target": f"step:{step.id}"},
        follow=True,
    )
    assert "1 名办理人员和 2 名学生" in response.content.decode()
    reminders = Notification.objects.filter(title__contains="提醒")
    assert reminders.filter(user=uni.dorm).count() == 1
    assert set(reminders.exclude(user=uni.dorm).values_list("user_id", flat=True)) == {
        uni.student.user_id,
        uni.student_cs2.user_id,
    }
    event = Event.objects.get(action="console.reminder.sent")
    assert event.data["step"] == step.id and event.data["students"] == 2


def test_remind_a_college_reaches_its_counselor_and_students(office_client, uni):
    response = office_client.post(
        reverse("console:supervision_remind", args=[uni.batch.id]),
        {"target": f"college:{uni.lit.id}"},
        follow=True,
    )
    assert "1 名办理人员和 1 名学生" in response.content.decode()
    assert set(
        Notification.objects.filter(title__contains="提醒").values_list("user_id", flat=True)
    ) == {uni.counselor_lit.id, uni.student_lit.user_id}


def test_remind_of_a_step_of_another_category_is_not_found(office_client, uni):
    other = f.category(name="研究生离校")
    step = Step.objects.get(category=other, title="学生公寓")
    response = office_client.post(
        reverse("console:supervision_remind", args=[uni.batch.id]), {"target": f"step:{step.id}"}
    )
    assert response.status_code == 404 and not Notification.objects.exists()


def test_dashboard_queries_do_not_grow_with_students(office_client, uni):
    def count() -> int:
        cache.clear()  # the section is built each time (tests/console/test_forecast_page.py: cached)
        with CaptureQueriesContext(connection) as ctx:
            assert (
                office_client.get(reverse("console:supervision", args=[uni.batch.id])).status_code
                == 200
            )
        return len(ctx.captured_queries)

    count()
    before = count()
    for i in range(12):
        f.enrolled(uni.batch, f"20230{i:05d}", f"新生{i}", uni.cs if i % 2 else uni.lit)
    _complete(uni, Form.objects.filter(batch=uni.batch).order_by("-id").first())
    assert count() == before
    assert Record.objects.filter(form__batch=uni.batch).count() > 80


def test_each_step_shows_its_deadline_beside_its_pending_count(office_client, uni):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    Step.objects.filter(category=uni.category, title="学生公寓").update(
        deadline=today - timedelta(days=2)
    )
    Step.objects.filter(category=uni.category, title="图书馆").update(
        deadline=today + timedelta(days=9)
    )
    page = office_client.get(reverse("console:supervision", args=[uni.batch.id])).content.decode()
    table = page.split('id="step-progress"', 1)[1].split("</table>", 1)[0]
    dorm = table.split("<td>学生公寓", 1)[1].split("</tr>", 1)[0]
    assert f"{today - timedelta(days=2):%Y-%m-%d}" in dorm and "已过截止日期" in dorm
    library = table.split("<td>图书馆", 1)[1].split("</tr>", 1)[0]
    assert f"{today + timedelta(days=9):%Y-%m-%d}" in library and "已过截止日期" not in library
    response = office_client.get(reverse("console:supervision_export", args=[uni.batch.id]))
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert any(
        row[0] == "学生公寓" and f"{today - timedelta(days=2):%Y-%m-%d}" in row for row in rows
    )
