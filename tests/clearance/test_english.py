"""English for the domain core: labels and refusals follow the active language; data never does."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from lixiao.clearance import queries, rules, services
from lixiao.clearance.models import Batch, Scope, Source, State
from lixiao.clearance.rules import Refused
from lixiao.clearance.services import Actor
from lixiao.directory import idnumbers
from lixiao.directory.models import Student, StudentType
from lixiao.tabular.reader import TableError, read_table
from lixiao.tabular.schema import Column, validate
from tests.conftest import record

pytestmark = pytest.mark.django_db


def actor(user):
    return Actor(user=user, source=Source.DESK, client_ip="10.1.2.3")


def _gate_refusal(uni) -> Refused:
    for title, user in [("图书馆", uni.library), ("学生公寓", uni.dorm)]:
        services.pass_record(actor(user), record(uni.form, title).id)
    with pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.counselor_cs), record(uni.form, "院系离校").id)
    return exc.value


def test_the_final_gate_refuses_in_english_and_names_the_step_titles_unchanged(uni):
    with translation.override("en"):
        refusal = _gate_refusal(uni)
    message = str(refusal)
    assert refusal.code == "gate"
    assert message == (
        "“院系离校” can only be passed once every other required step is passed. "
        "Not passed yet: 财务处, 组织关系转移"
    )
    assert "须在" not in message and "尚未通过" not in message


def test_the_final_gate_refusal_stays_chinese_by_default(uni):
    message = str(_gate_refusal(uni))
    assert message == "“院系离校”须在其他必办环节全部通过后办理，尚未通过：财务处、组织关系转移"


def test_other_refusals_read_in_english(uni):
    with translation.override("en"), pytest.raises(Refused) as exc:
        services.pass_record(actor(uni.office), record(uni.form_cs2, "组织关系转移").id)
    assert str(exc.value) == "“组织关系转移” is not required for this student"

    Batch.objects.filter(pk=uni.batch.pk).update(
        opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=9)
    )
    uni.batch.refresh_from_db()
    with translation.override("en"), pytest.raises(services.Closed) as exc:
        services.pass_record(actor(uni.library), record(uni.form, "图书馆").id)
    opens = f"{timezone.localtime(uni.batch.opens_at):%Y-%m-%d %H:%M}"
    assert str(exc.value) == f"Batch “{uni.batch.name}” is not open yet (opens {opens})"


def test_bulk_refusals_are_in_the_acting_language_and_keep_their_shape(uni):
    items = [
        services.Item(uni.form.id, State.PASSED),
        services.Item(uni.form.id, State.PASSED),
        services.Item(uni.form_lit.id, State.PASSED),
    ]
    with translation.override("en"):
        outcome = services.apply_many(
            actor(uni.counselor_cs), uni.batch, record(uni.form, "组织关系转移").step, items
        )
    refused = {code: message for _form, code, message in outcome.refused}
    assert refused == {
        "duplicate": "This student appears more than once; only the first is used",
        "scope": "This student is outside your scope",
    }
    assert all(type(message) is str for _f, _c, message in outcome.refused)  # storable as is


def test_state_labels_follow_the_language_and_values_do_not():
    with translation.override("en"):
        assert State.PENDING.label == "Pending"
        assert (str(State.PASSED.label), str(State.NOT_REQUIRED.label)) == (
            "Cleared",
            "Not required",
        )
        assert str(Scope.MINE.label) == "My students"
        assert str(StudentType.MASTER.label) == "Master's student"
    with translation.override("zh-hans"):
        assert State.PENDING.label == "未办理"
        assert str(Scope.MINE.label) == "我的学生"
        assert str(StudentType.MASTER.label) == "硕士研究生"
    assert State.PENDING.label == "未办理"  # the default language
    assert (
        StudentType.MASTER == "硕士研究生" and State.PENDING == "pending"
    )  # stored values unchanged


def test_result_cells_built_from_lazy_labels_render_in_the_request_language(uni):
    steps = [record(uni.form, "图书馆").step]
    with translation.override("en"):
        (form,) = queries.attach_cells([uni.form], steps)
        assert [(c.title, c.state, str(c.label)) for c in form.cells] == [
            ("图书馆", "pending", "Pending")
        ]
    assert str(form.cells[0].label) == "未办理"


def test_verbose_names_translate():
    with translation.override("en"):
        assert str(Student._meta.get_field("student_number").verbose_name) == "Student number"
        assert str(Student._meta.verbose_name) == "Student"
    assert str(Student._meta.get_field("student_number").verbose_name) == "学号"


def test_condition_description_translates_around_the_data():
    party = {"attr": "political_status", "op": "in", "values": ["中共党员", "中共预备党员"]}
    not_lit = {"attr": "college", "op": "not_in", "values": ["LIT"]}
    with translation.override("en"):
        assert rules.describe([party, not_lit]) == (
            "Only for students where Political status is 中共党员 or 中共预备党员 and College code is not LIT"
        )
        with pytest.raises(rules.ConditionError, match="Unknown student attribute: 'height'"):
            rules.validate_condition([{"attr": "height", "op": "eq", "values": ["180"]}])


def test_import_file_and_row_errors_read_in_english_with_headers_unchanged():
    columns = [Column("number", "学号", required=True), Column("name", "姓名", required=True)]
    with translation.override("en"):
        with pytest.raises(TableError, match="^The uploaded file is empty"):
            read_table(b"", "x.csv")
        with pytest.raises(TableError, match="Missing required columns: 学号, 姓名"):
            validate(read_table("班级\n1班\n".encode(), "x.csv"), columns)
        checked = validate(read_table("学号,姓名\n2022000001,\n".encode(), "x.csv"), columns)
        assert [e.as_dict() for e in checked.errors] == [
            {"row": 2, "column": "姓名", "message": "“姓名” is required", "value": ""}
        ]
        assert idnumbers.problem("123").startswith("An ID number has 18 characters")
    checked = validate(read_table("学号,姓名\n2022000001,\n".encode(), "x.csv"), columns)
    assert checked.errors[0].message == "“姓名”不能为空"
