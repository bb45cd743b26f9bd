"""Issue 6's end-to-end story: finance pushes, the sync decides, the student and the audit see it."""

from lixiao.clearance.models import Event, Form, Record, Source, State
from tests.conftest import record
from tests.integrations.conftest import FINANCE_TOKEN, push


def test_finance_push_to_student_form_and_audit(
    client, finance, uni, django_capture_on_commit_callbacks
):
    owing = {
        "student_number": "2022000001",
        "cleared": False,
        "reason": "欠费 1200.00 元",
        "amount": "1200.00",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = push(client, "finance", [owing], FINANCE_TOKEN)
    assert first.status_code == 200
    rec = record(uni.form, "财务处")
    assert rec.state == State.PENDING and rec.reason == "欠费 1200.00 元"

    client.force_login(uni.student.user)
    page = client.get("/me/").content.decode()
    assert "财务处" in page and "未办理" in page
    # Showing Record.reason on /me/ belongs to the portal; when it does, the student reads it there.
    client.logout()

    with django_capture_on_commit_callbacks(execute=True):
        second = push(
            client, "finance", [{"student_number": "2022000001", "cleared": True}], FINANCE_TOKEN
        )
    assert second.json()["updated"] == 1
    rec.refresh_from_db()
    assert rec.state == State.PASSED and rec.source == Source.SYNC
    audit = Event.objects.filter(record=rec).order_by("id").last()
    assert (audit.action, audit.source, audit.to_state) == (
        "clearance.record.passed",
        Source.SYNC,
        State.PASSED,
    )

    before = list(Record.objects.order_by("id").values_list("id", "state", "reason"))
    with django_capture_on_commit_callbacks(execute=True):
        stranger = push(
            client, "finance", [{"student_number": "2099000001", "cleared": True}], FINANCE_TOKEN
        )
    assert stranger.json()["unmatched"] == 1 and stranger.json()["inserted"] == 1
    assert list(Record.objects.order_by("id").values_list("id", "state", "reason")) == before
    assert Form.objects.count() == 3
