"""The writer end to end on the fixed university: pass, gate, cascade, completion, counters."""

import pytest

from lixiao.clearance import queries, services
from lixiao.clearance.models import Event, State
from lixiao.clearance.rules import Refused
from tests.conftest import record

pytestmark = pytest.mark.django_db


def actor(user, source="desk"):
    return services.Actor(user=user, source=source, client_ip="127.0.0.1")


def test_final_gate_refuses_and_names_pending_steps(uni):
    final = record(uni.form, "院系离校")
    with pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.counselor_cs), final.id)
    assert "图书馆" in str(exc.value) and "组织关系转移" in str(exc.value)
    final.refresh_from_db()
    assert final.state == State.PENDING
    assert Event.objects.filter(action="clearance.record.refused", actor=uni.counselor_cs).exists()


def test_full_clearance_completes_and_revoke_reopens_final(uni):
    for title, user in [("图书馆", uni.library), ("财务处", uni.finance), ("学生公寓", uni.dorm),
                        ("校友会登记", uni.dorm), ("组织关系转移", uni.counselor_cs), ("院系离校", uni.counselor_cs)]:
        services.pass_record(actor(user), record(uni.form, title).id)
    uni.form.refresh_from_db()
    assert uni.form.completed_at is not None
    services.revoke_record(actor(uni.library), record(uni.form, "图书馆").id, note="又借了一本")
    uni.form.refresh_from_db()
    assert uni.form.completed_at is None
    assert record(uni.form, "院系离校").state == State.PENDING
    assert Event.objects.filter(action="clearance.record.reopened", form=uni.form).count() == 1
    assert uni.counselor_cs.notifications.count() == 1
    assert queries.tallies(uni.batch) == queries.recount(uni.batch)


def test_handler_outside_scope_gets_not_found_and_nothing_changes(uni):
    with pytest.raises(services.NotFound):
        services.pass_record(actor(uni.counselor_cs), record(uni.form_lit, "组织关系转移").id)
    with pytest.raises(services.NotFound):
        services.pass_record(actor(uni.library), record(uni.form, "财务处").id)
    assert not Event.objects.filter(action__startswith="clearance.record.p").exists()


def test_party_step_not_required_for_non_member(uni):
    assert record(uni.form_cs2, "组织关系转移").state == State.NOT_REQUIRED
    assert record(uni.form, "组织关系转移").state == State.PENDING
    with pytest.raises(Refused):
        services.pass_record(actor(uni.counselor_cs), record(uni.form_cs2, "组织关系转移").id)
