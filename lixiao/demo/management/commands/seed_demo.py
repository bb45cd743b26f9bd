"""`manage.py seed_demo`: load the demo university (once; a second run changes nothing)."""

import time

from django.core.management.base import BaseCommand, CommandError

from lixiao.demo import university


class Command(BaseCommand):
    help = "载入演示数据：院系、职能部门、两个离校类别与批次、约 2,400 名毕业生、演示账号（密码 lixiao-demo）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--students",
            type=int,
            default=university.DEFAULT_STUDENTS,
            help=f"毕业生总人数（本科生约三分之二，其余为硕士研究生；默认 {university.DEFAULT_STUDENTS}）",
        )

    def handle(self, *args, students: int, **options):
        if university.is_loaded():
            self.stdout.write("demo already loaded（演示数据已存在，未做任何更改）")
            return
        started = time.monotonic()
        try:
            summary = university.build(students)
        except university.DemoConflict as exc:
            raise CommandError(str(exc)) from None
        self._report(summary, time.monotonic() - started)

    def _report(self, summary: university.Summary, seconds: float) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"演示数据已载入（{seconds:.1f} 秒）"))
        out.write(f"院系 {summary.colleges} 个，学生 {summary.students} 名")
        for name, forms, complete in summary.batches:
            out.write(f"  {name}：离校单 {forms} 份，已办结 {complete} 份")
        out.write(
            f"学生公寓、档案馆开放预约办理，已有预约 {summary.bookings} 个（dorm、archives 的“今日预约”）"
        )
        out.write("")
        out.write("演示账号：")
        width = max(len(a.username) for a in summary.accounts)
        for account in summary.accounts:
            out.write(
                f"  {account.username:<{width}}  {account.password:<12}  {account.name}  {account.role}"
            )
        out.write(
            "其他办理人员账号（密码同为 lixiao-demo）：lab security archives card alumni gradschool、"
            "counselor-math 等各学院辅导员"
        )
