"""Source upload through the shared tabular import: 学号, 是否结清, 原因, 金额 → the source's rows."""

from django.utils.translation import gettext as _

from lixiao.integrations.models import IntegrationSource, SourceRow, SyncRun
from lixiao.integrations.services import rows as source_rows
from lixiao.integrations.tasks import enqueue_sync
from lixiao.tabular import jobs
from lixiao.tabular.schema import Column, RowError

KIND = "integrations.rows"


def _for_page(parse):
    """The parser, its errors in the uploader's language (the preview page shows them)."""

    def parse_cell(value):
        try:
            return parse(value)
        except source_rows.CellError as exc:
            raise ValueError(exc.translated()) from None

    return parse_cell


@jobs.register
class SourceRows(jobs.Importer):
    """context: {"source": id, "mode": "upsert" | "replace"}."""

    kind = KIND
    columns = [
        Column("student_number", "学号", required=True, example="2022000001"),
        Column(
            "cleared",
            "是否结清",
            required=True,
            aliases=("结果", "是否通过"),
            parse=_for_page(source_rows.parse_cleared),
            example="否",
            help="是/否、通过/未通过、true/false 或 1/0",
        ),
        Column("reason", "原因", aliases=("说明", "备注"), example="欠费 1200.00 元"),
        Column("amount", "金额", parse=_for_page(source_rows.parse_amount), example="1200.00"),
    ]

    @property
    def source(self) -> IntegrationSource:
        return IntegrationSource.objects.get(pk=self.context["source"])

    def check(self, validated):
        errors, good, seen = [], [], {}
        for row_number, values in validated.rows:
            number = values["student_number"]
            if number in seen:
                errors.append(
                    RowError(
                        row_number,
                        "学号",
                        _("与第 %(row)s 行重复") % {"row": seen[number]},
                        number,
                    )
                )
                continue
            if len(number) > 32 or len(values["reason"]) > 255:
                errors.append(
                    RowError(row_number, "学号" if len(number) > 32 else "原因", _("内容过长"))
                )
                continue
            seen[number] = row_number
            good.append(
                source_rows.Row(number, values["cleared"], values["reason"], values["amount"])
            )
        existing = {
            n: (c, r, a)
            for n, c, r, a in SourceRow.objects.filter(
                source_id=self.context["source"]
            ).values_list("student_number", "cleared", "reason", "amount")
        }
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        for row in good:
            old = existing.get(row.student_number)
            key = (
                "new"
                if old is None
                else "unchanged"
                if old == (row.cleared, row.reason, row.amount)
                else "changed"
            )
            counts[key] += 1
        counts["unmatched"] = len(good) - source_rows.count_known([r.student_number for r in good])
        if self.context.get("mode") == "replace":
            counts["deleted"] = len(set(existing) - {r.student_number for r in good})
        return jobs.Plan(counts=counts, errors=errors, rows=good)

    def apply(self, plan):
        source = self.source
        stored = source_rows.store(source, plan.rows, mode=self.context.get("mode", "upsert"))
        enqueue_sync(
            source,
            SyncRun.Trigger.UPLOAD,
            student_numbers=stored.changed_numbers,
            user=self.job.created_by,
        )
        return stored.as_dict()
