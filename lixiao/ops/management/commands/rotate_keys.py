"""manage.py rotate_keys: re-seal ID numbers and TOTP secrets under the current key (resumable)."""

from django.core.management.base import BaseCommand, CommandError

from lixiao import keyring
from lixiao.clearance import services
from lixiao.clearance.models import Source
from lixiao.ops import rotation


class Command(BaseCommand):
    help = (
        "Re-seal every ID number (and its lookup hash) and TOTP secret under the first key of "
        "LIXIAO_ID_KEY, in batches; safe to stop and run again. --dry-run counts per key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per transaction")
        parser.add_argument(
            "--dry-run", action="store_true", help="count the values under each key, change nothing"
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 至少为 1")
        current = keyring.current()
        configured = ", ".join(k.id for k in keyring.configured())
        self.stdout.write(f"当前密钥 current key: {current.id}（已配置 configured: {configured}）")
        if options["dry_run"]:
            for label, counts in rotation.census().items():
                parts = "，".join(
                    f"{kid}{'（当前）' if kid == current.id else ''} {n}"
                    for kid, n in sorted(counts.items())
                )
                self.stdout.write(f"{label}：{parts or '无'}")
            return

        def after_batch(progress):
            self.stdout.write(f"  {progress.label}：已重新加密 {progress.resealed}")

        report = rotation.rotate(options["batch_size"], after_batch)
        failed = {p.label: p.failed for p in report if p.failed}
        services.log(
            services.Actor.system(Source.ADMIN),
            "ops.keys.rotated",
            note=f"密钥轮换：当前密钥 {current.id}",
            data={
                "key": current.id,
                "resealed": {p.label: p.resealed for p in report},
                "failed": {label: len(ids) for label, ids in failed.items()},
            },
        )
        for p in report:
            self.stdout.write(f"{p.label}：重新加密 {p.resealed}，失败 {len(p.failed)}")
        if failed:
            lines = "；".join(f"{label} 行号 {ids[:20]}" for label, ids in failed.items())
            raise CommandError(
                f"有值无法用已配置的任何密钥解开（{lines}）：把加密它们的旧密钥放回 LIXIAO_ID_KEY"
                "（排在当前密钥之后）再运行一次 rotate_keys"
            )
        self.stdout.write(
            "完成：所有值都由当前密钥加密。确认备份也已更新后，可从 LIXIAO_ID_KEY 中删去旧密钥。"
        )
