"""manage.py remind_deadlines: per-step deadline reminders to students and handlers, once a day."""

from django.core.management.base import BaseCommand, CommandError

from lixiao.infra import schedule
from lixiao.integrations.management.commands.sync import parse_interval
from lixiao.notify import deadlines


class Command(BaseCommand):
    help = (
        "Remind students of their pending steps whose deadline is near or passed, and the handlers "
        "of those steps of their backlog: at most once a day per person. --every 1d loops."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be sent, send nothing"
        )
        parser.add_argument(
            "--days",
            type=int,
            help="remind of deadlines at most this many days away (default LIXIAO_DEADLINE_REMIND_DAYS)",
        )
        parser.add_argument(
            "--every",
            nargs="?",
            const="1d",
            help="run again after this interval (1d, 12h; alone: 1d) until stopped",
        )

    def handle(self, *args, **options):
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days 不能为负数")
        interval = parse_interval(options["every"]) if options["every"] else None
        if interval is None or options["dry_run"]:
            self.run_once(options["days"], options["dry_run"], options["verbosity"])
            return
        # Every node may run this loop: each interval's run happens on one node only (and a
        # second run on one day would remind nobody again anyway).
        schedule.every(
            "remind_deadlines",
            interval,
            lambda: self.run_once(options["days"], False, options["verbosity"]),
        )

    def run_once(self, days, dry_run: bool, verbosity: int) -> deadlines.Plan:
        plan = deadlines.remind(days=days, dry_run=dry_run)
        out = self.stdout.write
        mark = "（试运行，未发送）" if dry_run else ""
        out(
            f"{plan.day:%Y-%m-%d} 截止日期提醒{mark}：截止日期在 {plan.days} 天内或已过的环节 {len(plan.due)} 个"
        )
        for d in plan.due:
            out(
                f"  {d.batch.name} · {d.step.title}：{deadlines.deadline_text(d.step, plan.day)}，"
                f"未办理 {d.pending} 人"
            )
        verb = "将提醒" if dry_run else "已提醒"
        for kind, label, messages in (
            ("student", "学生", plan.students),
            ("handler", "办理人员", plan.handlers),
        ):
            out(
                f"{label}：{verb} {plan.reached(kind)} 人"
                f"（今天已提醒过 {plan.already.get(kind, 0)} 人，不再重复）"
            )
            if dry_run or verbosity > 1:
                for m in messages:
                    who = "、".join(m.names) if m.names else f"{len(m.user_ids)} 人"
                    out(f"  [{who}] {m.title}\n    {m.body}")
        return plan
