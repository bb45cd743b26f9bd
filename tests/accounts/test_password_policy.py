"""The password policy (default 等保 level-3 profile): each rule refuses with a message a person can act on."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from lixiao.directory.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(uni):
    return User.objects.select_related("student").get(pk=uni.student.user.pk)


def problems(password, user) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


def test_a_good_password_passes(person):
    assert problems("Qiu-Shi-2026!", person) == []


def test_too_short_says_how_many_characters(person):
    assert "密码至少需要 8 个字符。" in problems("Ab1!xy", person)


def test_too_few_character_classes_names_the_classes(person):
    messages = problems("abcdefgh2026", person)
    assert "密码需包含小写字母、大写字母、数字、符号中的至少 3 类。" in messages


def test_three_classes_are_enough(person):
    assert problems("gardenHouse2026", person) == []


def test_student_number_inside_is_refused(person):
    assert "密码不能包含学号或职工号。" in problems("Ab!2022000001", person)


def test_staff_number_inside_is_refused_whatever_the_case(uni):
    staff = User.objects.get(pk=uni.counselor_cs.pk)
    assert "密码不能包含学号或职工号。" in problems("Xyz-t1001-Qq", staff)


def test_name_inside_is_refused(person):
    assert "密码不能包含姓名。" in problems("陈同学Abc-2026", person)


def test_id_number_fragment_is_refused(person):
    fragment = f.id_number(1)[-6:]
    assert "密码不能包含身份证件号的连续片段。" in problems(f"Qq!w{fragment}", person)
    middle = f.id_number(1)[4:10]
    assert "密码不能包含身份证件号的连续片段。" in problems(f"Qq!w{middle}", person)


def test_common_password_is_refused(person):
    messages = problems("Password123", person)
    assert messages, "a well-known password must be refused"
    assert any("常见" in m for m in messages)


def test_basic_profile_needs_only_two_classes(person, settings):
    settings.LIXIAO_PASSWORD_PROFILE = "basic"
    assert problems("gardenhouse2026", person) == []
    settings.LIXIAO_PASSWORD_PROFILE = "djbh3"
    assert problems("gardenhouse2026", person)


def test_change_page_lists_the_rules_and_shows_the_refusal(uni, client):
    client.force_login(uni.student.user)
    page = client.get("/accounts/password/").content.decode()
    assert "至少 8 个字符" in page and "至少 3 类" in page and "身份证件号" in page
    refused = client.post(
        "/accounts/password/", {"current": f.PASSWORD, "new1": "short", "new2": "short"}
    ).content.decode()
    assert "密码至少需要 8 个字符。" in refused
    user = User.objects.get(pk=uni.student.user.pk)
    assert user.check_password(f.PASSWORD)


def test_new_password_must_differ_from_current(uni, client):
    client.force_login(uni.student.user)
    response = client.post(
        "/accounts/password/", {"current": f.PASSWORD, "new1": f.PASSWORD, "new2": f.PASSWORD}
    )
    assert "新密码不能与当前密码相同" in response.content.decode()


def test_staff_changes_own_password_and_stays_logged_in(uni, client):
    client.force_login(uni.library)
    response = client.post(
        "/accounts/password/",
        {"current": f.PASSWORD, "new1": "Shu-Ku-2026!", "new2": "Shu-Ku-2026!"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=uni.library.pk).check_password("Shu-Ku-2026!")
    assert client.get("/desk/").status_code == 200
