"""Fixed personas shared by all tests: the same small university everywhere."""

import os
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client

from lixiao.clearance.models import Form, Record
from lixiao.clearance.services import audit
from lixiao.directory.models import College, User
from tests import factories as f

# The cluster tests start nginx, two app nodes and workers: `make test-cluster` runs them.
collect_ignore = [] if os.environ.get("LIXIAO_TEST_CLUSTER") == "1" else ["cluster"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # The portal caches pages per process; a test starts from none, as a fresh server does.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # A request in English leaves English active in this thread (a real server activates the
    # request's language on every request); each test starts in the default, as a server does.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Argon2 is right in production and slow in tests; the hasher itself is Django's.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media(settings, tmp_path):
    """Uploads, attachments and import files go to a throwaway folder (through the storage API)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def tasks_now(settings):
    """Background tasks run at once (after the commit, as the worker would)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def office_client(client, uni, media, tasks_now):
    """The supervising office logged in, with files and tasks as above."""
    client.force_login(uni.office)
    return client


@pytest.fixture
def live_db(transactional_db):
    """A database a live server (another thread) sees: committed, emptied after the test.

    Audit events are append-only in the database (migrations 0003, 0010): SQLite's trigger
    refuses the DELETE that ends every transactional test, while PostgreSQL's TRUNCATE does
    not fire it. The cleanup deletes them first through the one permitted path (the retention
    purge's), so the guard itself is never lifted.
    """
    yield
    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), audit.deletion_permitted(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clearance_event")


@pytest.fixture
def uni(db):
    """Two colleges, one batch; personas: students, handlers, counselors, office, outsider."""
    cs = College.objects.create(code="CS", name="计算机与信息科学学院")
    lit = College.objects.create(code="LIT", name="文学院")
    cat = f.category()
    b = f.batch(cat)
    counselor_cs = f.staff("T1001", "张老师", college=cs)
    counselor_lit = f.staff("T1002", "李老师", college=lit)
    library = f.staff("L2001", "图书馆王老师")
    finance = f.staff("F3001", "财务处赵老师")
    dorm = f.staff("D4001", "公寓刘老师")
    office = f.staff("A0001", "离校办管理员", is_office=True)
    outsider = f.staff("X9999", "无授权老师")
    student = f.student("2022000001", "陈同学", cs, political="中共党员", seed=1)
    student_lit = f.student("2022000003", "林同学", lit, seed=3)
    student_cs2 = f.student("2022000005", "周同学", cs, seed=5)
    f.enrol(b, [student, student_cs2], counselor=counselor_cs)
    f.enrol(b, [student_lit], counselor=counselor_lit)
    f.grant(b, "图书馆", library)
    f.grant(b, "财务处", finance)
    f.grant(b, "学生公寓", dorm)
    f.grant(b, "校友会登记", dorm)
    for title in ("组织关系转移", "院系离校"):
        f.grant(b, title, counselor_cs, scope="college", college=cs)
        f.grant(b, title, counselor_lit, scope="college", college=lit)
    return SimpleNamespace(
        cs=cs,
        lit=lit,
        category=cat,
        batch=b,
        counselor_cs=counselor_cs,
        counselor_lit=counselor_lit,
        library=library,
        finance=finance,
        dorm=dorm,
        office=office,
        outsider=outsider,
        student=student,
        student_lit=student_lit,
        student_cs2=student_cs2,
        form=Form.objects.get(batch=b, student=student),
        form_lit=Form.objects.get(batch=b, student=student_lit),
        form_cs2=Form.objects.get(batch=b, student=student_cs2),
    )


def client_for(user, language=None) -> Client:
    """A client logged in as this person, from a fixed address (audits record it), optionally
    asking for a language as a browser does."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    client = Client(REMOTE_ADDR="10.1.2.3", **headers)
    client.force_login(user)
    return client


def record(form: Form, title: str) -> Record:
    return Record.objects.get(form=form, step__title=title)


@pytest.fixture
def anonymous_user():
    return User()
