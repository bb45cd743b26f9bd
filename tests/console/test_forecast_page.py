"""The follow-up page's completion forecast on a replayed week of work with a known answer: each
step's and college's projected day, the ones that will miss their target, the burn-down, the
reminder preselecting the lagging units, the export; and the cached page staying current."""

import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from python_calamine import load_workbook

from lixiao.clearance import services
from lixiao.clearance.models import Event, Form, Step
from lixiao.clearance.services import Actor, Item
from lixiao.notify.models import Notification
from tests import factories as f

pytestmark = pytest.mark.django_db


def at_day(days_ago: int, hour: int = 10) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def in_days(n: int) -> str:
    return f"{timezone.localdate() + timedelta(days=n):%Y-%m-%d}"


def row(page: str, table: str, marker: str) -> str:
    body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return body.split(marker, 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def replayed(uni):
    """A batch opened ten days ago whose last day is in twenty days, with 30 students of 计算机
    and 10 of 文学院 enrolled nine days ago, and a week of work replayed through the writer:

    each of the last seven days two 计算机 students finished every required step (the final one
    last), and two more students passed 图书馆. Nobody passed the optional 校友会登记.

    Known answer (today counts as a working day at the week's pace):
    - 图书馆 28/40 passed at 4 a day: 12 left → the last on today + 2; deadline today + 5: on time.
    - 财务处, 院系离校 14/40 at 2 a day: 26 left → today + 12; the batch ends today + 20: on time.
    - 学生公寓 the same, but due today + 10: will miss it (needs 3 a day).
    - 校友会登记 0/40, no progress: stalled.
    - 计算机 14/30 complete at 2 a day: 16 left → today + 7. 文学院 0/10: stalled.
    - The batch 14/40 at 2 a day: 26 left → today + 12, before its end.
    """
    category = f.category(name="研究生离校", rule="required")
    today = timezone.localdate()
    batch = f.batch(
        category,
        name="2026届夏季离校",
        opens_at=at_day(10, 8),
        closes_at=timezone.make_aware(datetime.combine(today + timedelta(days=21), time(0))),
    )
    steps = {s.title: s for s in Step.objects.filter(category=category)}
    services.update_step(
        Actor(uni.office, "admin"), steps["图书馆"], {"deadline": today + timedelta(days=5)}, []
    )
    services.update_step(
        Actor(uni.office, "admin"), steps["学生公寓"], {"deadline": today + timedelta(days=10)}, []
    )
    students = [
        f.student(f"20241{i:05d}", f"学生{i}", uni.cs if i < 30 else uni.lit) for i in range(40)
    ]
    services.enrol(
        Actor.system("roster"),
        batch,
        [
            services.Enrolment(s.id, s.college_id, None, {"political_status": "群众"})
            for s in students
        ],
        at=at_day(9, 9),
    )
    forms = {
        fm.student.student_number: fm.id
        for fm in Form.objects.filter(batch=batch).select_related("student")
    }
    cs = [forms[f"20241{i:05d}"] for i in range(30)]
    lit = [forms[f"20241{i:05d}"] for i in range(30, 40)]
    library_only = lit + cs[14:18]
    office = Actor(uni.office, "admin")
    for k, days_ago in enumerate(range(7, 0, -1)):
        finishing = cs[2 * k : 2 * k + 2]
        for title in ("图书馆", "财务处", "学生公寓", "院系离校"):
            services.apply_many(
                office,
                batch,
                steps[title],
                [Item(fid, "passed") for fid in finishing],
                at=at_day(days_ago),
            )
        services.apply_many(
            office,
            batch,
            steps["图书馆"],
            [Item(fid, "passed") for fid in library_only[2 * k : 2 * k + 2]],
            at=at_day(days_ago, 15),
        )
    return batch, steps


def test_each_step_and_college_shows_its_projected_day_and_the_ones_that_will_miss(
    office_client, uni, replayed
):
    batch, steps = replayed
    page = office_client.get(reverse("console:supervision", args=[batch.id])).content.decode()
    library = row(page, "step-progress", "<td>图书馆")
    assert in_days(2) in library and "每天约 4.0 人" in library and "预计逾期" not in library
    finance = row(page, "step-progress", "<td>财务处")
    assert in_days(12) in finance and "每天约 2.0 人" in finance and "预计逾期" not in finance
    dorm = row(page, "step-progress", "<td>学生公寓")
    assert in_days(12) in dorm and "预计逾期" in dorm and "需 3 人" in dorm
    alumni = row(page, "step-progress", "<td>校友会登记")
    assert "停滞" in alumni and "近 7 天无进展" in alumni
    cs = row(page, "college-progress", "<td>计算机与信息科学学院")
    assert in_days(7) in cs and "预计逾期" not in cs and "停滞" not in cs
    lit = row(page, "college-progress", "<td>文学院")
    assert "停滞" in lit
    overall = page.split('id="overall-forecast"', 1)[1].split("</p>", 1)[0]
    assert f"预计 {in_days(12)} 全部办结" in overall and in_days(20) in overall
    assert "每天办结 2.0 人" in overall


def test_the_reminder_preselects_the_lagging_units_and_sends_to_them(office_client, uni, replayed):
    batch, steps = replayed
    lit_handler = f.staff("T2001", "文学院辅导员", college=uni.lit)
    f.grant(batch, "院系离校", lit_handler, scope="college", college=uni.lit)
    dorm = f.staff("D5001", "公寓老师")
    f.grant(batch, "学生公寓", dorm)
    page = office_client.get(reverse("console:supervision", args=[batch.id])).content.decode()
    checked = re.findall(r'name="target" value="([a-z]+:\d+)" checked', page)
    assert sorted(checked) == sorted(
        [f"step:{steps['学生公寓'].id}", f"step:{steps['校友会登记'].id}", f"college:{uni.lit.id}"]
    )
    assert "已预选 3 个" in page
    assert f'value="step:{steps["图书馆"].id}"' in page  # offered, not ticked

    response = office_client.post(
        reverse("console:supervision_remind", args=[batch.id]), {"target": checked}, follow=True
    )
    assert "已向 3 个环节或院系" in response.content.decode()
    sent = Event.objects.filter(action="console.reminder.sent", batch=batch)
    assert sent.count() == 3
    assert {e.note for e in sent} == {
        "督办提醒：环节“学生公寓”",
        "督办提醒：环节“校友会登记”",
        "督办提醒：院系“文学院”",
    }
    assert dorm.notifications.get().body == "环节“学生公寓”尚有 26 名学生未办结，请尽快办理。"
    assert lit_handler.notifications.count() == 1
    # Every student still behind on one of them hears once, not once per unit.
    students = Notification.objects.filter(title__startswith="离校手续提醒")
    assert students.count() == 40 - 0  # all 40 have the optional step pending
    assert students.values("user").distinct().count() == students.count()


def test_a_row_button_reminds_its_unit_alone(office_client, uni, replayed):
    batch, steps = replayed
    office_client.post(
        reverse("console:supervision_remind", args=[batch.id]),
        {"target": [f"college:{uni.lit.id}"], "only": f"step:{steps['图书馆'].id}"},
    )
    assert [e.note for e in Event.objects.filter(action="console.reminder.sent")] == [
        "督办提醒：环节“图书馆”"
    ]


def test_the_burndown_reads_back_the_remaining_of_each_day(office_client, uni, replayed):
    batch, steps = replayed
    url = reverse("console:supervision", args=[batch.id])
    page = office_client.get(url).content.decode()
    chart = page.split('id="burndown"', 1)[1]
    assert "<svg" in chart and "<polyline" in chart
    assert "全批次：剩余 26 / 40" in chart
    # From the batch's first day: none before the roster came, 40, then 2 fewer each day of
    # the replayed week, and today (no work yet) as yesterday.
    data = chart.split('id="burndown-data"', 1)[1].split("</table>", 1)[0]
    days = re.findall(r"<td>(\d{4}-\d\d-\d\d)</td><td class=\"text-end\">(\d+)</td>", data)
    assert days == [
        (f"{timezone.localdate() - timedelta(days=n):%Y-%m-%d}", str(left))
        for n, left in zip(
            range(10, -1, -1), [0, 40, 40, 38, 36, 34, 32, 30, 28, 26, 26], strict=True
        )
    ]
    points = re.search(r'<polyline points="([^"]+)"', chart).group(1).split()
    assert len(points) == len(days)
    page = office_client.get(url, {"burndown": f"step:{steps['学生公寓'].id}"}).content.decode()
    summary = page.split('id="burndown-summary"', 1)[1].split("</p>", 1)[0]
    assert "学生公寓：剩余 26 / 40" in summary and "预计逾期" in summary
    assert f'<option value="step:{steps["学生公寓"].id}" selected>' in page
    page = office_client.get(url, {"burndown": f"college:{uni.lit.id}"}).content.decode()
    assert "文学院：剩余 10 / 10" in page
    page = office_client.get(url, {"burndown": "college:999999"}).content.decode()
    assert "全批次：剩余 26 / 40" in page  # not on the roster: the whole batch


def test_the_export_carries_the_forecast(office_client, uni, replayed):
    batch, _steps = replayed
    response = office_client.get(reverse("console:supervision_export", args=[batch.id]))
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    by_first = {r[0]: r for r in rows if r and r[0]}
    assert "预计完成日期" in by_first["环节"] and "预测" in by_first["环节"]
    assert by_first["学生公寓"][8] == in_days(12) and by_first["学生公寓"][9] == "预计逾期"
    assert by_first["图书馆"][7] == 4.0 and by_first["图书馆"][9] == "预计按时完成"
    assert by_first["文学院"][6].startswith("停滞")
    assert any(f"预计 {in_days(12)} 全部办结" in str(c) for r in rows for c in r)


def test_the_cached_page_follows_every_write(office_client, uni, replayed):
    batch, steps = replayed
    url = reverse("console:supervision", args=[batch.id])

    def numbers(page):
        return page.split('id="overall-numbers"', 1)[1].split("</p>", 1)[0]

    assert "<strong>14</strong> / 40" in numbers(office_client.get(url).content.decode())
    office = Actor(uni.office, "admin")
    form = Form.objects.filter(batch=batch, completed_at__isnull=True, college=uni.cs).first()
    for title in ("图书馆", "财务处", "学生公寓", "院系离校"):
        services.apply_many(office, batch, steps[title], [Item(form.id, "passed")])
    assert "<strong>15</strong> / 40" in numbers(office_client.get(url).content.decode())
    # A new deadline (configuration) changes the forecast of that step at once.
    services.update_step(
        office, steps["财务处"], {"deadline": timezone.localdate() + timedelta(days=3)}, []
    )
    assert "预计逾期" in row(office_client.get(url).content.decode(), "step-progress", "<td>财务处")
    # A student's new name (no record changes) reaches the longest-waiting list.
    waiting = Form.objects.filter(batch=batch, completed_at__isnull=True).order_by(
        "created_at", "id"
    )
    student = waiting.first().student
    student.name = "改名同学"
    student.save(update_fields=["name"])
    services.students_changed([student.id])
    assert "改名同学" in office_client.get(url).content.decode()


def test_queries_do_not_grow_with_the_history_or_the_roster(office_client, uni, replayed):
    batch, steps = replayed
    url = reverse("console:supervision", args=[batch.id])

    def count(fresh: bool) -> int:
        if fresh:
            from django.core.cache import cache

            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert office_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    count(True)  # the session's first save
    built, cached = count(True), count(False)
    assert cached < built
    office = Actor(uni.office, "admin")
    more = [f.student(f"20251{i:05d}", f"新生{i}", uni.lit) for i in range(15)]
    services.enrol(
        Actor.system("roster"),
        batch,
        [services.Enrolment(s.id, s.college_id, None, {}) for s in more],
        at=at_day(1, 20),
    )
    new_forms = list(
        Form.objects.filter(batch=batch, student__in=more).values_list("id", flat=True)
    )
    services.apply_many(office, batch, steps["图书馆"], [Item(i, "passed") for i in new_forms])
    assert (count(True), count(False)) == (built, cached)


def test_the_pace_counts_from_the_day_the_roster_came(office_client, uni):
    """Opened ten days ago, roster two days ago, ten students finished on each of those two days:
    the pace is 10 a day, not 20 spread over a week of nothing to do."""
    category = f.category(name="研究生离校", rule="required")
    batch = f.batch(category, name="2026届补办批次", opens_at=at_day(10, 8))
    students = [f.student(f"20242{i:05d}", f"学生{i}", uni.cs) for i in range(50)]
    services.enrol(
        Actor.system("roster"),
        batch,
        [services.Enrolment(s.id, s.college_id, None, {}) for s in students],
        at=at_day(2, 8),
    )
    forms = list(Form.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
    steps = Step.objects.filter(category=category, required=True).order_by("is_final", "order")
    office = Actor(uni.office, "admin")
    for days_ago, chunk in ((2, forms[:10]), (1, forms[10:20])):
        for step in steps:
            services.apply_many(
                office, batch, step, [Item(fid, "passed") for fid in chunk], at=at_day(days_ago)
            )
    page = office_client.get(reverse("console:supervision", args=[batch.id])).content.decode()
    overall = page.split('id="overall-forecast"', 1)[1].split("</p>", 1)[0]
    # 30 left at 10 a day, today included: the third day.
    assert "每天办结 10.0 人" in overall and f"预计 {in_days(2)} 全部办结" in overall
