"""manage.py backup --output FILE: one consistent archive of the database and uploaded files."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lixiao.clearance import services
from lixiao.clearance.models import Source
from lixiao.ops import archive, dumps


class Command(BaseCommand):
    help = (
        "Write one archive: the database (SQLite backup API / pg_dump custom format), the "
        "uploaded files and a manifest; sealed with LIXIAO_BACKUP_KEY when it is set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", required=True, help="the archive to write (never overwritten)"
        )

    def handle(self, *args, **options):
        passphrase = settings.LIXIAO_BACKUP_KEY or None
        try:
            created = archive.create(options["output"], connection, passphrase)
        except (archive.BackupError, dumps.DumpError) as exc:
            raise CommandError(str(exc)) from None
        manifest = created.manifest
        services.log(
            services.Actor.system(Source.ADMIN),
            "ops.backup.created",
            note=f"备份：{created.path.name}",
            data={
                "file": created.path.name,
                "size": created.size,
                "encrypted": created.encrypted,
                "database": manifest["database"]["vendor"],
                "files": len(manifest["files"]),
                "missing_files": len(created.missing),
            },
        )
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"备份完成 {created.path}：{created.size / 1e6:.1f} MB，"
            f"{len(manifest['tables'])} 张表 {rows} 行，上传文件 {len(manifest['files'])} 个，"
            f"{'已加密' if created.encrypted else '未加密'}（Lixiao {manifest['lixiao_version']}）"
        )
        for name in created.missing[:20]:
            self.stderr.write(f"  警告：数据库引用的文件 {name} 在存储中不存在，未备份")
        if not created.encrypted and settings.PRODUCTION:
            self.stderr.write(
                "  注意：备份未加密，含学生个人信息。设置 LIXIAO_BACKUP_KEY 可加密备份。"
            )
