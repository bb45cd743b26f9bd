"""manage.py restore FILE: a backup archive into the empty database DATABASE_URL points at."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lixiao.clearance import services
from lixiao.clearance.models import Source
from lixiao.ops import restore


class Command(BaseCommand):
    help = (
        "Restore a backup into the empty database DATABASE_URL points at, and its uploaded "
        "files; refuses another Lixiao version, a non-empty database or a damaged archive."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the file `manage.py backup` wrote")
        parser.add_argument(
            "--files-only",
            action="store_true",
            help="only the uploaded files (after a restore whose files step failed)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="every check (key, version, empty target, checksums), nothing written",
        )

    def handle(self, *args, **options):
        try:
            manifest = restore.restore(
                options["archive"],
                connection,
                settings.LIXIAO_BACKUP_KEY or None,
                files_only=options["files_only"],
                dry_run=options["dry_run"],
            )
        except restore.BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["dry_run"]:
            self.stdout.write(
                f"检查通过（未写入任何数据）：备份时间 {manifest['created_at']}，"
                f"Lixiao {manifest['lixiao_version']}，上传文件 {len(manifest['files'])} 个"
            )
            self.warn_keys(manifest)
            return
        services.log(
            services.Actor.system(Source.ADMIN),
            "ops.restore.completed",
            note=f"从备份恢复（{manifest['created_at']}）",
            data={
                "created_at": manifest["created_at"],
                "lixiao_version": manifest["lixiao_version"],
                "files": len(manifest["files"]),
                "files_only": options["files_only"],
            },
        )
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"恢复完成：备份时间 {manifest['created_at']}，{len(manifest['tables'])} 张表 {rows} 行"
            f"（已核对），上传文件 {len(manifest['files'])} 个"
        )
        self.warn_keys(manifest)

    def warn_keys(self, manifest):
        if manifest["needs_keys"]:
            self.stderr.write(
                f"  注意：部分身份证件号由密钥 {', '.join(manifest['needs_keys'])} 加密，"
                "而 LIXIAO_ID_KEY 中没有它们：请把当时的密钥加入 LIXIAO_ID_KEY，否则这些证件号无法解密。"
            )
