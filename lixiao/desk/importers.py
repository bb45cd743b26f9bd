"""The desk's result import (kind "desk.records"): 学号, 结果 通过/未通过, 备注 → one step, one transaction.

The file's headers and values (学号, 结果, 备注, 通过/未通过) and the template's notes are file contents and
stay Chinese; the row messages shown in the preview are in the uploader's language (the preview is
checked in their request).
"""

from django.utils.translation import gettext as _

from lixiao import sqlbulk
from lixiao.clearance import services
from lixiao.clearance.models import Batch, Form, Source, State, Step
from lixiao.directory.models import Student
from lixiao.tabular import jobs
from lixiao.tabular.reader import TableError
from lixiao.tabular.schema import Column, RowError

RESULTS = {"通过": State.PASSED, "未通过": State.PENDING}


def _result(raw: str) -> str:
    if raw not in RESULTS:
        raise ValueError(_("结果只能填“通过”或“未通过”"))
    return RESULTS[raw]


NOTES = [
    "结果填“通过”表示该环节办理通过；填“未通过”表示撤销为未办理。",
    "备注可不填，会记入办理记录。",
    "导入前会先预览：将通过、将撤销、无变化的人数，以及每一条有问题的行和原因；确认后才会写入。",
]


@jobs.register
class DeskRecords(jobs.Importer):
    kind = "desk.records"
    columns = [
        Column("number", "学号", required=True, example="2022000001", help="学生的学号"),
        Column(
            "result", "结果", required=True, parse=_result, example="通过", help="通过 或 未通过"
        ),
        Column("note", "备注", example="已交还钥匙"),
    ]

    def _target(self) -> tuple[Batch, Step]:
        batch = Batch.objects.select_related("category").get(pk=self.context["batch"])
        step = Step.objects.get(pk=self.context["step"], category_id=batch.category_id)
        return batch, step

    def _actor(self) -> services.Actor:
        return services.Actor(
            user=self.job.created_by, source=Source.IMPORT, client_ip=self.context.get("client_ip")
        )

    def check(self, validated) -> jobs.Plan:
        """Rows mapped to forms here (学号 known, on this batch's roster); what each would do —
        scope, the final gate, applicability — is the writer's own dry run."""
        batch, step = self._target()
        numbers = [values["number"] for _row, values in validated.rows]
        known, form_of = set(), {}
        for part in sqlbulk.chunks(sorted(set(numbers))):
            known.update(
                Student.objects.filter(student_number__in=part).values_list(
                    "student_number", flat=True
                )
            )
            form_of.update(
                Form.objects.filter(batch=batch, student__student_number__in=part).values_list(
                    "student__student_number", "id"
                )
            )
        errors, candidates, seen = [], [], {}
        for row, values in validated.rows:
            number = values["number"]
            if number in seen:
                errors.append(
                    RowError(row, "学号", _("与第 %(row)s 行重复") % {"row": seen[number]}, number)
                )
                continue
            seen[number] = row
            if number not in known:
                errors.append(RowError(row, "学号", _("系统中没有该学号"), number))
                continue
            if number not in form_of:
                errors.append(RowError(row, "学号", _("该学生不在本批次名单中"), number))
                continue
            candidates.append((row, values, form_of[number]))
        items = [services.Item(fid, values["result"]) for _row, values, fid in candidates]
        try:
            outcome = services.apply_many(self._actor(), batch, step, items, dry_run=True)
        except services.Closed as closed:  # outside the service window: nothing to preview
            raise TableError(str(closed)) from None
        refused = {fid: (code, message) for fid, code, message in outcome.refused}
        changed = set(outcome.changed)
        good = []
        counts = {"pass": 0, "revoke": 0, "unchanged": 0}
        for row, values, form_id in candidates:
            if form_id in refused:
                code, message = refused[form_id]
                errors.append(
                    RowError(row, "学号" if code == "scope" else "结果", message, values["number"])
                )
                continue
            if form_id not in changed:
                counts["unchanged"] += 1
            else:
                counts["pass" if values["result"] == State.PASSED else "revoke"] += 1
            good.append(
                {"row": row, "form": form_id, "to": values["result"], "note": values["note"]}
            )
        errors.sort(key=lambda e: e.row)
        return jobs.Plan(counts=counts, errors=errors, rows=good)

    def apply(self, plan: jobs.Plan) -> dict:
        batch, step = self._target()
        actor = self._actor()
        items = [services.Item(r["form"], r["to"], (r["note"] or "")[:255]) for r in plan.rows]
        outcome = services.apply_many(actor, batch, step, items, group=self.job.group)
        row_of = {r["form"]: r["row"] for r in plan.rows}
        return {
            "changed": len(outcome.changed),
            "unchanged": len(outcome.unchanged),
            "refused": [[row_of.get(fid), message] for fid, _code, message in outcome.refused],
            "group": str(outcome.group),
        }
