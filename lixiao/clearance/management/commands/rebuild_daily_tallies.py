"""manage.py rebuild_daily_tallies: recount the daily tallies from the audit trail and replace them."""

from django.core.management.base import BaseCommand, CommandError

from lixiao.clearance import services
from lixiao.clearance.models import Batch, Source


class Command(BaseCommand):
    help = (
        "Recount each batch's daily tallies (the follow-up page's forecast and charts) from its "
        "forms and audit events, and replace them. The writer keeps them as it goes; run this "
        "after restoring tallies by hand or to check them (--dry-run only reports differences)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, action="append", help="batch id (repeatable)")
        parser.add_argument(
            "--dry-run", action="store_true", help="report the rows that differ, change nothing"
        )

    def handle(self, *args, **options):
        batches = Batch.objects.select_related("category").order_by("id")
        if options["batch"]:
            batches = batches.filter(id__in=options["batch"])
            missing = set(options["batch"]) - set(batches.values_list("id", flat=True))
            if missing:
                raise CommandError(f"没有这些批次：{', '.join(map(str, sorted(missing)))}")
        actor = services.Actor.system(Source.ADMIN)
        for batch in batches:
            if batch.archived_at is not None:
                self.stdout.write(
                    f"{batch.name}（{batch.id}）：已归档，计数保持归档时的样子，不重建"
                )
                continue
            differ = services.rebuild_daily_tallies(actor, batch, dry_run=options["dry_run"])
            verb = "不一致" if options["dry_run"] else "已重建，其中不一致"
            self.stdout.write(
                f"{batch.name}（{batch.id}）：{verb}的每日计数 环节 {differ['step_rows']} 行、"
                f"院系 {differ['form_rows']} 行"
            )
