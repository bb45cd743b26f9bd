"""Run by test_upgrade in a child process, with this checkout's code, on a database that the
previous release created and seeded and this code has just migrated: the demo still works."""

from django.test import Client

from lixiao.clearance import queries
from lixiao.clearance.models import Batch
from lixiao.demo import DEMO_PASSWORD, INITIAL_PASSWORD, INITIAL_STUDENT_NUMBER
from lixiao.directory import idnumbers
from lixiao.directory.models import Student


def run() -> None:
    # Every ID number the old release sealed (no key id then) still opens, as itself.
    students = list(Student.objects.exclude(id_number_enc=""))
    assert len(students) > 2000, len(students)
    for s in students:
        value = idnumbers.decrypt(s.id_number_enc)
        assert idnumbers.mask(value) == s.id_number_masked, s.student_number
        assert idnumbers.hash_matches(value, s.id_number_hash), s.student_number
    # The writer's counters still agree with the records under them.
    for batch in Batch.objects.all():
        assert queries.tallies(batch) == queries.recount(batch), batch.name
    # The personas log in: the initial password (checked against the sealed ID number) …
    client = Client()
    page = client.post(
        "/accounts/login/", {"username": INITIAL_STUDENT_NUMBER, "password": INITIAL_PASSWORD}
    )
    assert page.status_code == 302 and client.session.get("_auth_user_id"), page.status_code
    # … and a student sees their form.
    client = Client()
    page = client.post("/accounts/login/", {"username": "2022000001", "password": DEMO_PASSWORD})
    assert page.status_code == 302, page.status_code
    form = client.get("/me/")
    assert form.status_code == 200 and "图书馆" in form.content.decode(), form.status_code
    print("upgrade: ok")
