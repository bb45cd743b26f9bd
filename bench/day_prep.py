"""bench/day.py's preparation inside Django: the people the load test plays and what they touch.

Run as `manage.py shell -c "from bench.day_prep import main; main(path)"` on a database that
`seed_demo --students N` filled: adds 40 desk handlers with school-wide grants on the manual
department steps and a second office user (throwaway database: rows written directly, as
bench/world.py does), then writes JSON with the students, handlers, office users and records.
"""

import json
import random

from django.contrib.auth.hashers import make_password
from django.db import transaction

from lixiao.clearance.models import Batch, Form, Grant, Record, Scope, Step
from lixiao.directory.models import Staff, User

HANDLERS = 40
STUDENTS = 2000
MANUAL_STEPS = ("学生公寓", "保卫处（户籍迁移）", "档案馆", "校园卡中心", "实验室安全检查")


def main(path: str) -> None:
    rng = random.Random(12)
    batch = Batch.objects.get(category__name="本科生离校")
    steps = {s.title: s for s in Step.objects.filter(category_id=batch.category_id)}
    manual = [steps[t] for t in MANUAL_STEPS if t in steps]
    admin = User.objects.get(username="admin")
    hashed = make_password("lixiao-demo")
    with transaction.atomic():
        people = [
            User(
                username=f"bench-h{i:02d}",
                name=f"压测办理员{i:02d}",
                password=hashed,
                uses_initial_password=False,
            )
            for i in range(1, HANDLERS + 1)
        ]
        people.append(
            User(
                username="bench-office",
                name="压测管理员",
                password=hashed,
                uses_initial_password=False,
                is_office=True,
            )
        )
        User.objects.bulk_create(people)
        users = {u.username: u for u in User.objects.filter(username__startswith="bench-")}
        Staff.objects.bulk_create(
            [Staff(user=u, staff_number=u.username, name=u.name) for u in users.values()]
        )
        handlers = []
        for i in range(1, HANDLERS + 1):
            step = manual[i % len(manual)]
            user = users[f"bench-h{i:02d}"]
            Grant.objects.create(
                batch=batch, step=step, user=user, scope=Scope.SCHOOL, created_by=admin
            )
            handlers.append({"username": user.username, "step": step.id})
    forms = list(
        Form.objects.filter(batch=batch)
        .select_related("student")
        .values_list("id", "student__student_number", "student__name", "completed_at")
    )
    rng.shuffle(forms)
    chosen = [f for f in forms if f[1] != "2022000004"][:STUDENTS]  # 04 keeps its initial password
    # The demo leaves most students on their initial password (forced change at first login):
    # these have chosen theirs already, as on graduation day.
    User.objects.filter(username__in=[f[1] for f in chosen]).update(
        password=hashed, uses_initial_password=False
    )
    step_ids = [s.id for s in manual]
    records = {}
    sample = [f[0] for f in forms[:4000]]
    for rid, form_id, step_id, state in Record.objects.filter(
        form_id__in=sample, step_id__in=step_ids
    ).values_list("id", "form_id", "step_id", "state"):
        if state != "not_required":
            records.setdefault(str(step_id), []).append([form_id, rid, state])
    message_records = dict(
        Record.objects.filter(
            form_id__in=[f[0] for f in chosen], step=steps["学生公寓"]
        ).values_list("form_id", "id")
    )
    out = {
        "batch": batch.id,
        "students": [
            {
                "username": number,
                "complete": completed is not None,
                "record": message_records.get(form_id),
            }
            for form_id, number, _name, completed in chosen
        ],
        "handlers": handlers,
        "office": ["admin", "bench-office"],
        "search": [[number, name] for _f, number, name, _c in forms[:3000]],
        "forms": [f[0] for f in forms[:4000]],
        "records": records,
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False)
