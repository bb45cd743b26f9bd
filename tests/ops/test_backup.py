"""The backup and restore drill, on the engine this test run uses (SQLite, then PostgreSQL):
seed the demo, back up (sealed), change and delete things, restore into an empty database and
compare every student, form, record, audit event, message, notification and uploaded file.
Then what restore refuses: a non-empty database, the wrong key, another version, a damaged file.

Every step runs as the operator runs it — `manage.py` in a child process with its own
DATABASE_URL and LIXIAO_VAR_DIR (uploads) — on databases made for the drill and dropped after.
"""

import io
import json
import tarfile
from pathlib import Path

from lixiao.ops import sealing

KEY = "drill-backup-key-" + "k" * 32


def refused(result, *words) -> str:
    """Refused with a message on stderr that names what to fix, never a traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


def rewrite(archive: Path, out: Path, change) -> None:
    """A copy of a plain archive with members changed by change(name, bytes) -> bytes."""
    with tarfile.open(archive) as src, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst:
        for info in src.getmembers():
            data = change(info.name, src.extractfile(info).read())
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def test_backup_change_restore_compare_and_refusals(tmp_path, places):
    source, target, spare = places("src"), places("dst"), places("spare")
    assert source.manage("migrate", "--no-input").returncode == 0
    source.drill("seed")
    at_backup = source.snapshot(tmp_path / "at_backup.json")
    assert len(at_backup["students"]) > 2000 and at_backup["files"]  # the demo and an upload

    archive = tmp_path / "lixiao.backup"
    made = source.manage("backup", "--output", str(archive), LIXIAO_BACKUP_KEY=KEY)
    assert made.returncode == 0, made.stderr
    assert "已加密" in made.stdout and sealing.is_sealed(archive)
    assert archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    # No second archive over the first one.
    refused(source.manage("backup", "--output", str(archive)), "已存在")

    source.drill("change")
    changed = source.snapshot(tmp_path / "changed.json")
    for part in ("students", "records", "events", "notifications", "objections", "files"):
        assert changed[part] != at_backup[part], part

    # The non-empty source is refused and left as it was.
    refused(
        source.manage("restore", str(archive), LIXIAO_BACKUP_KEY=KEY), "不是空的", "DATABASE_URL"
    )
    assert source.snapshot(tmp_path / "still.json") == changed

    # A dry run checks everything and writes nothing.
    checked = target.manage("restore", "--dry-run", str(archive), LIXIAO_BACKUP_KEY=KEY)
    assert checked.returncode == 0 and "检查通过" in checked.stdout, checked.stderr
    assert target.tables() == 0
    # Restored under other ID keys, the ID numbers could not be read: restore says which key.
    other_keys = target.manage(
        "restore", "--dry-run", str(archive), LIXIAO_BACKUP_KEY=KEY, LIXIAO_ID_KEY="k" * 40
    )
    assert other_keys.returncode == 0 and "LIXIAO_ID_KEY" in other_keys.stderr

    # The drill: restore into an empty database; everything is as it was at the backup.
    done = target.manage("restore", str(archive), LIXIAO_BACKUP_KEY=KEY)
    assert done.returncode == 0, done.stderr
    assert "已核对" in done.stdout
    restored = target.snapshot(tmp_path / "restored.json")
    *events, restore_event = restored.pop("events")
    assert restore_event["action"] == "ops.restore.completed"
    assert events == at_backup.pop("events")  # every audit event, field by field
    assert restored == at_backup  # every student, account, form, record, message, file

    # The restored database works: it takes new writes (ids continue after the restored ones).
    assert target.manage("migrate", "--check").returncode == 0

    # Refused before anything is written, each with what to do: no key, the wrong key …
    refused(spare.manage("restore", str(archive)), "LIXIAO_BACKUP_KEY")
    refused(spare.manage("restore", str(archive), LIXIAO_BACKUP_KEY="wrong"), "无法解密")
    plain = tmp_path / "plain.tar"
    sealing.unseal_file(archive, plain, KEY)
    # … another Lixiao version …
    older = tmp_path / "older.tar"

    def old_version(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["lixiao_version"] = "0.0.9"
        return json.dumps(manifest).encode()

    rewrite(plain, older, old_version)
    refused(spare.manage("restore", str(older)), "Lixiao 0.0.9", "docs/upgrade.md")
    # … a damaged database member …
    damaged = tmp_path / "damaged.tar"
    rewrite(plain, damaged, lambda n, d: d[:-9] + bytes(9) if n.startswith("database.") else d)
    refused(spare.manage("restore", str(damaged)), "校验和不符")
    refused(spare.manage("restore", "--dry-run", str(damaged)), "校验和不符")
    # … a damaged sealed archive …
    cut = tmp_path / "cut.backup"
    cut.write_bytes(archive.read_bytes()[: -(1 << 16)])
    refused(spare.manage("restore", str(cut), LIXIAO_BACKUP_KEY=KEY), "无法解密")
    # … and something that is not a backup at all.
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    refused(spare.manage("restore", str(other)), "不是 Lixiao 备份文件")
    assert spare.tables() == 0  # nothing was written by any refused restore
