"""The restore drill's steps, each run in a child process on a real database (see test_backup).

seed: the demo university, plus a student's message with an attachment (an uploaded file).
change: what happens after a backup — records passed, a notification and a message deleted,
the attachment removed from storage, a new student, new audit events.
snapshot: every student, form, record, audit event, message, notification and account, and
every uploaded file's SHA-256, as JSON.
"""

import hashlib
import io
import json

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from lixiao.clearance import services
from lixiao.clearance.models import Event, Form, Record, Source, State
from lixiao.directory.models import College, Student, User
from lixiao.notify.models import Notification
from lixiao.objections import services as objections
from lixiao.objections.models import Objection

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    record = (
        Record.objects.filter(form__student__student_number="2022000001", state=State.PENDING)
        .select_related("step", "form")
        .order_by("step__order")
        .first()
    )
    student = User.objects.get(username="2022000001")
    upload = SimpleUploadedFile("收据.png", PNG, content_type="image/png")
    objections.submit(student, record, "done", "已在图书馆还书，附收据", upload)


def change() -> None:
    office = User.objects.get(username="admin")
    actor = services.Actor(user=office, source=Source.ADMIN, client_ip="10.0.0.1")
    pending = Record.objects.filter(state=State.PENDING, step__is_final=False).order_by("id")[:20]
    for record in pending:
        services.pass_record(actor, record.id, "备份之后的办理")
    Notification.objects.filter(pk=Notification.objects.order_by("id").first().pk).delete()
    objection = Objection.objects.exclude(attachment="").get()
    default_storage.delete(objection.attachment.name)
    objection.delete()
    college = College.objects.order_by("id").first()
    user = User.objects.create_user("2099000001", name="备份后新生")
    Student.objects.create(
        user=user, student_number="2099000001", name="备份后新生", college=college,
        student_type="本科生",
    )  # fmt: skip
    services.log(actor, "console.drill.after_backup", note="备份之后")


def _rows(queryset) -> list[dict]:
    return json.loads(json.dumps(list(queryset.order_by("pk").values()), default=str))


def snapshot(path: str) -> None:
    files = {}
    for objection in Objection.objects.exclude(attachment="").order_by("pk"):
        name = objection.attachment.name
        with default_storage.open(name, "rb") as f:
            files[name] = hashlib.sha256(f.read()).hexdigest()
    data = {
        "students": _rows(Student.objects.all()),
        "users": _rows(User.objects.all()),
        "forms": _rows(Form.objects.all()),
        "records": _rows(Record.objects.all()),
        "events": _rows(Event.objects.all()),
        "objections": _rows(Objection.objects.all()),
        "notifications": _rows(Notification.objects.all()),
        "files": files,
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, sort_keys=True)
