"""`manage.py seed_demo`: the demo university a newcomer logs into, and that it loads only once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from lixiao.clearance import queries, rules
from lixiao.clearance.models import Batch, Category, Event, Form, Grant, Record, State
from lixiao.clearance.services import daily
from lixiao.demo import ACCOUNTS, DEMO_PASSWORD, INITIAL_PASSWORD, INITIAL_STUDENT_NUMBER
from lixiao.directory import idnumbers
from lixiao.directory.models import College, Student
from lixiao.integrations.models import SourceRow

pytestmark = pytest.mark.django_db

# As conftest does per test: Argon2 is right in production and slow in tests.
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
PARTY = [{"attr": "political_status", "op": "in", "values": ["中共党员（含预备党员）"]}]


def seed(students=120) -> str:
    out = StringIO()
    call_command("seed_demo", "--students", str(students), stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module in a transaction rolled back at its end.

    Each test still runs in its own savepoint (the django_db mark), so nothing a test does
    leaks into the next; seeding once keeps the module fast on PostgreSQL too.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
        with transaction.atomic():
            yield seed()
            transaction.set_rollback(True)


def states(number: str) -> dict[str, Record]:
    form = Form.objects.get(student__student_number=number)
    return {r.step.title: r for r in form.records.select_related("step")}


def login(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    assert "_auth_user_id" in client.session
    return client


def test_university_has_colleges_categories_and_open_batches(demo):
    assert College.objects.count() >= 8
    assert College.objects.filter(code="CS", name="计算机与信息科学学院").exists()
    assert College.objects.filter(code="LIT", name="文学院").exists()
    undergraduate = Category.objects.get(name="本科生离校")
    graduate = Category.objects.get(name="研究生离校")
    assert (undergraduate.completion_rule, undergraduate.survey_enabled) == ("all", True)
    assert graduate.completion_rule == "required"
    for category in (undergraduate, graduate):
        steps = list(category.steps.order_by("order"))
        assert len(steps) >= 8
        assert (
            steps[-1].title == "院系离校"
            and steps[-1].is_final
            and steps[-1].owner_type == "college"
        )
        party = category.steps.get(title="组织关系转移")
        assert party.owner_type == "college" and party.condition == PARTY
        assert category.steps.get(title="图书馆").source.code == "library"
        assert category.steps.get(title="财务处").source.code == "finance"
        assert all(s.instructions and s.contact for s in steps)
        batch = Batch.objects.get(category=category)
        assert batch.enabled and batch.window_state() == "open" and batch.student_type
        assert batch.name.endswith("离校") and batch.description
    assert Student.objects.count() == Form.objects.count() == 120
    assert "院系 10 个，学生 120 名" in demo
    for student in Student.objects.select_related("user"):
        number = student.user.id_number()
        assert idnumbers.problem(number) is None, student.student_number
        assert student.gender == ("男" if int(number[16]) % 2 else "女"), student.student_number
        assert student.name and student.major and student.class_name and student.dormitory
    party = Student.objects.filter(political_status__in=["中共党员", "中共预备党员"]).count()
    assert 0.1 < party / Student.objects.count() < 0.35


def test_demo_accounts_log_in_with_the_demo_password(demo):
    for account in ACCOUNTS:
        if account.username != INITIAL_STUDENT_NUMBER:
            assert account.password == DEMO_PASSWORD
            login(account.username, DEMO_PASSWORD)
    lead = Grant.objects.filter(user__username="counselor-cs")
    assert lead.count() == 4  # 组织关系转移 and 院系离校 in both batches
    assert all(g.scope == "college" and g.college.code == "CS" and g.is_lead for g in lead)
    library = Grant.objects.filter(user__username="library")
    assert {(g.step.title, g.scope) for g in library} == {("图书馆", "school")}
    assert library.count() == 2


def test_initial_password_student_must_change_it_first(demo):
    assert INITIAL_PASSWORD == idnumbers.initial_password(
        Student.objects.get(student_number=INITIAL_STUDENT_NUMBER).user.id_number()
    )
    # The demo password is not theirs: the login form comes back instead of a redirect.
    wrong = {"username": INITIAL_STUDENT_NUMBER, "password": DEMO_PASSWORD}
    assert Client().post("/accounts/login/", wrong).status_code == 200
    client = login(INITIAL_STUDENT_NUMBER, INITIAL_PASSWORD)
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"


def test_walk_through_stories_and_progress_through_the_writer(demo):
    first = states("2022000001")
    assert first["财务处"].state == State.PASSED  # green
    assert first["图书馆"].state == State.PENDING  # red, with the source's reason
    assert first["图书馆"].reason == "未还图书 2 册"
    assert first["实验室安全检查"].state == State.NOT_REQUIRED  # grey
    assert first["组织关系转移"].state == State.PENDING
    counselor = Form.objects.get(student__student_number="2022000001").counselor
    assert counselor.username == "counselor-cs"

    complete = Form.objects.get(student__student_number="2022000002")
    assert complete.completed_at is not None
    assert all(r.state != State.PENDING for r in complete.records.all())

    master = Student.objects.get(student_number="2022000003")
    assert (master.student_type, master.college.code) == ("硕士研究生", "LIT")
    form = master.forms.get()
    assert form.batch.category.name == "研究生离校" and form.counselor.username == "counselor-lit"
    third = states("2022000003")
    assert not [t for t, r in third.items() if r.state == State.PASSED]
    assert third["财务处"].reason == "欠费 1,200.00 元"

    for batch in Batch.objects.all():
        assert queries.tallies(batch) == queries.recount(batch)
        # The replayed two weeks are in the daily tallies, as the audit trail tells them.
        assert daily.stored(batch.id) == daily.recount(batch.id)
        assert (
            len({day for (_step, day), c in daily.stored(batch.id)[0].items() if c["passed"]}) > 7
        )
        steps = list(batch.category.steps.order_by("order"))
        infos = [rules.StepInfo(s.id, s.title, s.required, s.is_final) for s in steps]
        forms = Form.objects.filter(batch=batch).prefetch_related("records")
        for form in forms:
            by_step = {r.step_id: r.state for r in form.records.all()}
            complete = rules.is_complete(batch.category.completion_rule, infos, by_step)
            assert complete == (form.completed_at is not None)
            final = next(s for s in infos if s.is_final)
            assert by_step[final.id] != State.PASSED or not rules.gate_blockers(infos, by_step)
        assert forms.filter(completed_at__isnull=False).exists()
        passed = Record.objects.filter(form__batch=batch, state=State.PASSED)
        assert (
            passed.count()
            == Event.objects.filter(batch=batch, to_state=State.PASSED).count()
            - Event.objects.filter(batch=batch, from_state=State.PASSED).count()
        )
    sync = Event.objects.filter(source="sync", action="clearance.record.passed")
    assert sync.exists() and not sync.exclude(step__automatic=True).exists()
    assert Event.objects.filter(source__in=["bulk", "desk"], actor__username="dorm").exists()
    # The integration sources agree with the automatic steps they decided.
    owing = SourceRow.objects.filter(source__code="library", cleared=False)
    assert owing.filter(student_number="2022000001", reason="未还图书 2 册").exists()
    assert owing.count() == Record.objects.filter(step__title="图书馆", state=State.PENDING).count()


def test_an_undergraduate_finds_the_survey_on_the_form_page_and_answers_it_once(demo):
    from lixiao.survey.models import Question, Response

    undergraduate = Category.objects.get(name="本科生离校")
    assert Question.objects.filter(category=undergraduate).count() == 5
    assert not Question.objects.filter(category__name="研究生离校").exists()
    client = login("2022000001", DEMO_PASSWORD)
    page = client.get("/me/").content.decode()
    form = Form.objects.get(student__student_number="2022000001")
    link = f'href="/me/survey/{form.id}/"'
    assert "填写调查问卷" in page and link in page
    survey = client.get(f"/me/survey/{form.id}/")
    questions = list(Question.objects.filter(category=undergraduate))
    assert all(q.text in survey.content.decode() for q in questions)
    single, satisfaction, multiple, contact, _text = questions
    answers = {
        f"q{single.id}": "国内升学",
        f"q{satisfaction.id}": "满意",
        f"q{multiple.id}": ["图书馆", "学生公寓"],
        f"q{contact.id}": ["院系校友群"],
        f"q{_text.id}": "希望能线上预约",
    }
    done = client.post(f"/me/survey/{form.id}/", answers, follow=True).content.decode()
    assert "问卷已提交，感谢您的参与" in done and "以下为您的答案（只读）" in done
    assert "调查问卷（已于" in client.get("/me/").content.decode()
    # Once: a second submission changes nothing, and the page stays read-only.
    again = client.post(f"/me/survey/{form.id}/", {**answers, f"q{satisfaction.id}": "一般"})
    assert "以下为您的答案（只读）" in again.content.decode()
    assert Response.objects.get(form=form).answers[str(satisfaction.id)] == "满意"
    # A graduate student's category has no survey: no link, and the page is not found.
    graduate = login("2022000003", DEMO_PASSWORD)
    assert "调查问卷" not in graduate.get("/me/").content.decode()
    master_form = Form.objects.get(student__student_number="2022000003")
    assert graduate.get(f"/me/survey/{master_form.id}/").status_code == 404


def test_second_run_changes_nothing(demo):
    from lixiao.appointments.models import Booking, Plan
    from lixiao.survey.models import Question

    def counts():
        return (
            Event.objects.count(),
            Student.objects.count(),
            Grant.objects.count(),
            Record.objects.count(),
            Question.objects.count(),
            Plan.objects.count(),
            Booking.objects.count(),
        )

    before = counts()
    again = seed()
    assert "demo already loaded" in again
    assert counts() == before


def test_demo_sources_accept_their_documented_tokens(demo):
    from lixiao.demo import DEMO_TOKENS
    from lixiao.integrations.models import IntegrationSource
    from lixiao.integrations.services.tokens import hash_token

    for code, token in DEMO_TOKENS.items():
        assert IntegrationSource.objects.get(code=code).token_hash == hash_token(token)


def test_dormitory_and_archives_take_appointments_with_bookings(demo):
    """README: 学生公寓 and 档案馆 take bookings in both batches; dorm sees today's; 2022000001 has one."""
    from lixiao.appointments.models import HOLDING, OPEN, Booking, Plan

    plans = Plan.objects.select_related("step", "batch")
    assert sorted((p.batch.name[-5:], p.step.title) for p in plans) == sorted(
        (b.name[-5:], t) for b in Batch.objects.all() for t in ("学生公寓", "档案馆")
    )
    assert all(p.enabled for p in plans) and Booking.objects.count() > 10
    for plan in plans:  # never more than its places, and only students whose step is pending
        for slot in plan.slots.all():
            assert slot.bookings.filter(status__in=HOLDING).count() <= plan.capacity
    for booking in Booking.objects.filter(OPEN).select_related("plan"):
        state = Record.objects.get(form_id=booking.form_id, step_id=booking.plan.step_id).state
        assert state == State.PENDING  # a passed step closed its booking
    mine = Booking.objects.filter(OPEN, form__student__student_number="2022000001")
    assert [b.plan.step.title for b in mine] == ["档案馆"]
    assert "改约或取消" in login("2022000001", DEMO_PASSWORD).get("/me/").content.decode()
    batch = Plan.objects.get(step__title="学生公寓", batch__student_type="本科生").batch
    day = login("dorm", DEMO_PASSWORD).get(f"/desk/b/{batch.id}/appointments/")
    assert day.status_code == 200 and "今日预约" in day.content.decode()
