"""manage.py remind_appointments: tomorrow's bookings, one reminder per student, once per booking."""

from django.core.management.base import BaseCommand

from lixiao.appointments import reminders
from lixiao.infra import schedule
from lixiao.integrations.management.commands.sync import parse_interval


class Command(BaseCommand):
    help = (
        "Remind students of their bookings (预约) for tomorrow: one notification per student, "
        "each booking once (safe to run several times a day). --every 12h loops."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be sent, send nothing"
        )
        parser.add_argument(
            "--every",
            nargs="?",
            const="12h",
            help="run again after this interval (12h, 1d; alone: 12h) until stopped",
        )

    def handle(self, *args, **options):
        interval = parse_interval(options["every"]) if options["every"] else None
        if interval is None or options["dry_run"]:
            self.run_once(options["dry_run"], options["verbosity"])
            return
        # Every node may run this loop: each interval's run happens on one node only (and a
        # second run would remind nobody again anyway: each booking is reminded once).
        schedule.every(
            "remind_appointments",
            interval,
            lambda: self.run_once(False, options["verbosity"]),
        )

    def run_once(self, dry_run: bool, verbosity: int) -> reminders.Run:
        run = reminders.remind(dry_run=dry_run)
        mark = "（试运行，未发送）" if dry_run else ""
        verb = "将提醒" if dry_run else "已提醒"
        self.stdout.write(
            f"{run.day:%Y-%m-%d} 的预约提醒{mark}：{verb}学生 {len(run.messages)} 人，"
            f"预约 {run.bookings} 个（已提醒过的不再重复）"
        )
        if dry_run or verbosity > 1:
            for message in run.messages:
                self.stdout.write(f"  [{message.who}] {message.title}\n    {message.body}")
        return run
