"""manage.py sync: apply integration sources to open forms — once, or every N minutes."""

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lixiao.infra import schedule
from lixiao.integrations.models import IntegrationSource, SyncRun
from lixiao.integrations.services import sync

_INTERVAL = re.compile(r"^(\d+)\s*([smhd]?)$")


def parse_interval(text: str) -> int:
    """'10m', '90s', '1h', '1d' or a number of minutes → seconds."""
    match = _INTERVAL.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--every {text!r}: 请写成 10m、90s、1h 或 1d 这样的间隔")
    return int(match.group(1)) * {"s": 1, "m": 60, "": 60, "h": 3600, "d": 86400}[match.group(2)]


class Command(BaseCommand):
    help = "Sync integration sources onto open forms (all sources, or --source CODE); --every 10m loops."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", action="append", default=[], help="source code (repeatable); default all"
        )
        parser.add_argument(
            "--every",
            nargs="?",
            const="default",
            help="run again after this interval (10m, 90s, 1h; alone: LIXIAO_SYNC_EVERY_MINUTES) until stopped",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, write nothing"
        )

    def handle(self, *args, **options):
        codes = options["source"]
        sources = IntegrationSource.objects.all()
        if codes:
            sources = sources.filter(code__in=codes)
            unknown = set(codes) - set(sources.values_list("code", flat=True))
            if unknown:
                raise CommandError(f"没有这些集成表：{', '.join(sorted(unknown))}")
        every = options["every"]
        if every == "default":
            every = f"{settings.LIXIAO_SYNC_EVERY_MINUTES}m"
        interval = parse_interval(every) if every else None
        if interval is None or options["dry_run"]:
            failed = self.run_once(list(sources), options["dry_run"])
            if failed:
                raise CommandError(f"{failed} 个集成表同步有错误，详见上方与集成表页面的同步记录")
            return
        # Every node may run this loop: each interval's run happens on one node only.
        job = "sync:" + (",".join(sorted(codes)) or "*")
        schedule.every(job, interval, lambda: self.run_once(list(sources), False))

    def run_once(self, sources, dry_run: bool) -> int:
        failed = 0
        for source in sources:
            run = sync.sync_source(source, SyncRun.Trigger.SCHEDULE, dry_run=dry_run)
            failed += run.status == SyncRun.Status.FAILED
            self.stdout.write(
                f"{source.code}: {run.get_status_display()}{'（试运行）' if dry_run else ''} "
                f"检查 {run.forms} 通过 {run.passed} 退回 {run.returned} 未变化 {run.unchanged} "
                f"无数据 {run.no_data} 未知学号 {run.unknown} 错误 {run.error_count}"
            )
            for message in run.errors[:10]:
                self.stderr.write(f"  {message}")
        return failed
