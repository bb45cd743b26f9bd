"""manage.py purge_personal_data: remove the personal data of students whose batches were archived
more than LIXIAO_RETENTION_YEARS ago, and audit events older than LIXIAO_AUDIT_RETENTION_DAYS."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from lixiao import sqlbulk
from lixiao.clearance import services
from lixiao.clearance.models import Source
from lixiao.clearance.services.purge import REMOVED_LABELS
from lixiao.directory.models import Student


def _day(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else "尚未归档"


class Command(BaseCommand):
    help = (
        "Remove (anonymise) the personal data of students whose batches were archived more than "
        "LIXIAO_RETENTION_YEARS ago — keeping the anonymous counts — and delete audit events older "
        "than LIXIAO_AUDIT_RETENTION_DAYS. Every purge is audited. --dry-run lists, removes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be removed, remove nothing"
        )

    def handle(self, *args, **options):
        dry_run, verbosity = options["dry_run"], options["verbosity"]
        actor = services.Actor.system(Source.ADMIN)
        plan = services.purge_personal_data(actor, dry_run=dry_run)
        out = self.stdout.write
        mark = "（试运行，未删除任何数据）" if dry_run else ""
        out(
            f"个人信息清除{mark}：保留期限为批次归档后 {plan.years} 年，"
            f"截至 {timezone.localtime(plan.at):%Y-%m-%d %H:%M}"
        )
        if not plan.batches:
            out("  没有到期的批次。")
        for due in plan.batches:
            out(
                f"  {due.batch.name}（归档于 {_day(due.batch.archived_at)}，{_day(due.due)} 到期）："
                f"{'将清除' if dry_run else '已清除'} {due.purged} 人，保留 {due.kept} 人，"
                f"此前已清除 {due.already} 人"
            )
        if plan.students or plan.removed.get("files"):
            parts = [f"{REMOVED_LABELS.get(key, key)} {n}" for key, n in plan.removed.items() if n]
            verb = "将清除" if dry_run else "已清除"
            out(f"{verb} {plan.students} 名学生的个人信息：{'，'.join(parts)}")
            if dry_run and verbosity > 1:
                out("  学号：" + "、".join(self._numbers(plan.student_ids)))
        if plan.kept:
            out(f"保留 {len(plan.kept)} 名学生的全部信息（他们还在未到期的批次中）：")
            for kept in plan.kept[: None if verbosity > 1 else 20]:
                where = "、".join(f"{name}（{_day(due)} 到期）" for name, due in kept.batches)
                out(f"  {kept.student_number}：{where}")
            if verbosity < 2 and len(plan.kept) > 20:
                out(f"  …… 另有 {len(plan.kept) - 20} 人（-v 2 列出全部）")
        before, events = services.purge_audit(actor, dry_run=dry_run)
        verb = "将删除" if dry_run else "已删除"
        out(
            f"审计日志：保留 {plan.audit_days} 天，{verb} {_day(before)} 之前的 {events} 条"
            "（清除记录本身长期保留）"
        )

    def _numbers(self, student_ids) -> list[str]:
        rows = sqlbulk.select_in(Student._meta.db_table, ("student_number",), "id", student_ids)
        return sorted(number for (number,) in rows)
