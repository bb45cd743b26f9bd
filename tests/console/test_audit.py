"""Audit viewer, export, undo of a group through the writer, the auditor role, and the access matrix."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from python_calamine import load_workbook

from lixiao.clearance import queries, services
from lixiao.clearance.models import Event, Form, Source, State, Step
from lixiao.console import importers
from lixiao.tabular import jobs
from tests import factories as f
from tests.conftest import record
from tests.console.importing import roster_file, roster_row

pytestmark = pytest.mark.django_db


def _bulk(uni, title: str, forms, to_state=State.PASSED, by=None):
    step = Step.objects.get(category=uni.category, title=title)
    actor = services.Actor(by or uni.office, Source.BULK)
    return services.apply_many(
        actor, uni.batch, step, [services.Item(form.id, to_state) for form in forms]
    )


@pytest.fixture
def auditor(uni):
    return f.staff("AU001", "审计员", is_auditor=True)


def test_filters_by_student_handler_source_action_and_date(office_client, uni):
    _bulk(uni, "学生公寓", [uni.form, uni.form_lit], by=uni.dorm)
    services.pass_record(services.Actor(uni.library, Source.DESK), record(uni.form, "图书馆").id)
    url = reverse("console:audit")
    page = office_client.get(url, {"student": uni.student_lit.student_number}).content.decode()
    assert uni.student_lit.name in page and uni.student.name not in page
    page = office_client.get(
        url, {"handler": "L2001", "action": "clearance.record.passed"}
    ).content.decode()
    assert "共 1 条" in page and "图书馆" in page
    assert (
        "共 2 条"
        in office_client.get(
            url, {"source": "bulk", "action": "clearance.record.passed"}
        ).content.decode()
    )
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "共 0 条" in office_client.get(url, {"since": tomorrow}).content.decode()
    step = Step.objects.get(category=uni.category, title="图书馆")
    assert (
        "共 1 条"
        in office_client.get(
            url, {"step": step.id, "action": "clearance.record.passed"}
        ).content.decode()
    )


def test_export_is_filtered_formula_safe_audited_and_has_no_id_numbers(office_client, uni):
    services.pass_record(
        services.Actor(uni.library, Source.DESK, client_ip="10.0.0.9"),
        record(uni.form, "图书馆").id,
        note="=cmd|' /C calc'!A0",
    )
    response = office_client.get(
        reverse("console:audit_export"), {"student": uni.student.student_number}
    )
    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["时间", "操作人", "动作"]
    assert any("'=cmd" in str(c) for row in rows for c in row)
    assert all(f.id_number(1) not in str(c) for row in rows for c in row)
    assert {row[4] for row in rows[1:]} == {uni.student.student_number}
    assert Event.objects.filter(action="audit.exported", actor=uni.office).exists()


def test_undo_puts_a_bulk_group_back_through_the_writer(office_client, uni):
    outcome = _bulk(uni, "学生公寓", [uni.form, uni.form_lit], by=uni.dorm)
    response = office_client.post(
        reverse("console:audit_undo"), {"group": str(outcome.group)}, follow=True
    )
    assert "已撤销操作组，2 名学生" in response.content.decode()
    assert (
        record(uni.form, "学生公寓").state == State.PENDING
        and record(uni.form_lit, "学生公寓").state == State.PENDING
    )
    undo = Event.objects.filter(action="clearance.record.revoked", note__startswith="撤销操作组")
    assert undo.count() == 2 and set(undo.values_list("source", flat=True)) == {Source.ADMIN}
    assert undo.first().group != outcome.group
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)
    again = office_client.post(
        reverse("console:audit_undo"), {"group": str(outcome.group)}, follow=True
    )
    assert "已撤销过" in again.content.decode()


def test_undo_is_refused_with_the_students_a_later_change_touched(office_client, uni):
    outcome = _bulk(uni, "学生公寓", [uni.form, uni.form_lit], by=uni.dorm)
    services.revoke_record(
        services.Actor(uni.dorm, Source.DESK), record(uni.form_lit, "学生公寓").id
    )
    response = office_client.post(
        reverse("console:audit_undo"), {"group": str(outcome.group)}, follow=True
    )
    page = response.content.decode()
    assert "不能撤销" in page and f"{uni.student_lit.student_number} {uni.student_lit.name}" in page
    assert record(uni.form, "学生公寓").state == State.PASSED  # nothing was undone


def test_undo_of_a_revoke_that_reopened_the_final_step_restores_both(uni):
    f.pass_prerequisites(uni.form, uni.office)
    services.pass_record(services.Actor(uni.office, Source.ADMIN), record(uni.form, "院系离校").id)
    outcome = _bulk(uni, "学生公寓", [uni.form], to_state=State.PENDING)
    assert record(uni.form, "院系离校").state == State.PENDING
    services.undo_group(services.Actor(uni.office, Source.ADMIN), outcome.group)
    assert (
        record(uni.form, "学生公寓").state == State.PASSED
        and record(uni.form, "院系离校").state == State.PASSED
    )
    assert Form.objects.get(pk=uni.form.pk).completed_at is not None
    assert f.broken_forms(uni.batch) == [] and queries.tallies(uni.batch) == queries.recount(
        uni.batch
    )


def test_auditor_reads_and_exports_but_cannot_undo(client, uni, auditor):
    outcome = _bulk(uni, "学生公寓", [uni.form], by=uni.dorm)
    client.force_login(auditor)
    assert client.get(reverse("console:audit")).status_code == 200
    assert "撤销</button>" not in client.get(reverse("console:audit")).content.decode()
    assert client.get(reverse("console:audit_export")).status_code == 200
    assert (
        client.post(reverse("console:audit_undo"), {"group": str(outcome.group)}).status_code == 403
    )
    assert record(uni.form, "学生公寓").state == State.PASSED


def test_audit_list_queries_do_not_grow_with_events(office_client, uni):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert office_client.get(reverse("console:audit")).status_code == 200
        return len(ctx.captured_queries)

    count()
    before = count()
    _bulk(uni, "学生公寓", [uni.form, uni.form_lit, uni.form_cs2], by=uni.dorm)
    _bulk(uni, "图书馆", [uni.form, uni.form_lit, uni.form_cs2])
    assert count() == before


# --- the access matrix: every part-B URL, every persona -------------------------------------


def _urls(uni, office):
    job = jobs.preview(
        importers.RosterImporter.kind,
        office,
        "r.xlsx",
        roster_file([roster_row("2026009001", "矩阵", "CS", 3)]),
        {"batch": uni.batch.id},
    )
    mjob = jobs.preview(
        importers.CollegeImporter.kind,
        office,
        "c.csv",
        "院系代码,院系名称\nM1,矩阵学院\n".encode(),
        {},
    )
    b = uni.batch.id
    gets = [
        reverse("console:roster", args=[b]),
        reverse("console:roster_template"),
        reverse("console:roster_preview", args=[b, job.id]),
        reverse("console:masterdata"),
        reverse("console:masterdata_kind", args=["staff"]),
        reverse("console:masterdata_new", args=["colleges"]),
        reverse("console:masterdata_edit", args=["colleges", uni.cs.id]),
        reverse("console:masterdata_template", args=["departments"]),
        reverse("console:masterdata_import", args=["staff"]),
        reverse("console:masterdata_preview", args=["colleges", mjob.id]),
        reverse("console:supervision", args=[b]),
        reverse("console:supervision_export", args=[b]),
    ]
    audit_gets = [reverse("console:audit"), reverse("console:audit_export")]
    posts = [
        reverse("console:roster", args=[b]),
        reverse("console:roster_confirm", args=[b, job.id]),
        reverse("console:masterdata_new", args=["colleges"]),
        reverse("console:masterdata_edit", args=["colleges", uni.cs.id]),
        reverse("console:masterdata_import", args=["staff"]),
        reverse("console:masterdata_confirm", args=["colleges", mjob.id]),
        reverse("console:supervision_remind", args=[b]),
        reverse("console:audit_undo"),
    ]
    return gets, audit_gets, posts


def test_access_matrix(client, uni, auditor, media, tasks_now):
    gets, audit_gets, posts = _urls(uni, uni.office)
    before = Event.objects.exclude(action__startswith="accounts.").count()
    for url in gets + audit_gets:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url in posts:
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for persona in (uni.student.user, uni.library, uni.counselor_cs, uni.outsider):
        client.force_login(persona)
        for url in gets + audit_gets:
            assert client.get(url).status_code == 403, (persona, url)
        for url in posts:
            assert client.post(url).status_code == 403, (persona, url)
    client.force_login(auditor)
    for url in audit_gets:
        assert client.get(url).status_code == 200, url
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url).status_code == 403, url
    changes = Event.objects.exclude(action__startswith="accounts.").exclude(action="audit.exported")
    assert changes.count() == before  # nobody changed anything
    client.force_login(uni.office)
    for url in gets + audit_gets:
        assert client.get(url).status_code == 200, url
