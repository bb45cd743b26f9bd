"""The backup archive: a tar of the database snapshot, the uploaded files and manifest.json (last).

manifest.json says which Lixiao version and migrations made the archive, how many rows each
table held, which keys sealed the ID numbers, and the size and SHA-256 of every other member.
Uploaded files are read through the storage of the FileField that names them (Django's storage
API: a local directory, S3 or the database alike), and exactly those the snapshot refers to.
With LIXIAO_BACKUP_KEY set the whole tar is sealed (lixiao.ops.sealing).
"""

import hashlib
import importlib.metadata
import io
import json
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from lixiao.ops import dumps, sealing

FORMAT = "lixiao-backup/1"
MANIFEST = "manifest.json"
FILES_PREFIX = "files/"


class BackupError(Exception):
    """A message for the operator: what went wrong and what to do."""


def version() -> str:
    return importlib.metadata.version("lixiao")


@dataclass
class Created:
    path: Path
    size: int
    encrypted: bool
    manifest: dict
    missing: list[str] = field(default_factory=list)


class _Hashing:
    """Reads through to `raw`, hashing what passes."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, n=-1):
        data = self.raw.read(n)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, fileobj, size: int) -> str:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o600
    reader = _Hashing(fileobj)
    tar.addfile(info, reader)
    return reader.digest.hexdigest()


def create(output, connection, passphrase: str | None = None) -> Created:
    output = Path(output).absolute()
    if output.exists():
        raise BackupError(f"{output} 已存在：请换一个文件名（备份从不覆盖已有文件）")
    if not output.parent.is_dir():
        raise BackupError(f"目录 {output.parent} 不存在：请先创建它")
    partial = output.with_name(output.name + ".partial")
    fields = dict(dumps.file_fields())
    # Personal data: the temporary snapshot and the archive are readable by this user only.
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".lixiao-backup-") as tmp:
        workdir = Path(tmp)
        if connection.vendor == "sqlite":
            member_path, facts = dumps.sqlite_snapshot(connection, workdir)
        elif connection.vendor == "postgresql":
            member_path, facts = dumps.postgres_snapshot(connection, workdir)
        else:
            raise BackupError(f"不支持备份 {connection.vendor} 数据库")
        raw = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        sink = sealing.SealedWriter(raw, passphrase) if passphrase else raw
        files, missing, seen = [], [], {}
        try:
            with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                with open(member_path, "rb") as f:
                    size = member_path.stat().st_size
                    database = {
                        "vendor": connection.vendor,
                        "member": member_path.name,
                        "size": size,
                        "sha256": _add(tar, member_path.name, f, size),
                    }
                member_path.unlink()
                for label, name in facts.files:
                    if name in seen:  # two fields naming one file: stored once
                        seen[name]["fields"].append(label)
                        continue
                    storage = fields[label].storage
                    try:
                        size = storage.size(name)
                        handle = storage.open(name, "rb")
                    except (FileNotFoundError, OSError):
                        missing.append(name)
                        continue
                    with handle:
                        entry = {"name": name, "fields": [label], "size": size}
                        entry["sha256"] = _add(tar, FILES_PREFIX + name, handle, size)
                    files.append(entry)
                    seen[name] = entry
                manifest = {
                    "format": FORMAT,
                    "lixiao_version": version(),
                    "created_at": timezone.now().isoformat(),
                    "database": database,
                    "migrations": facts.migrations,
                    "tables": facts.tables,
                    "key_ids": facts.key_ids,
                    "files": files,
                    "missing_files": missing,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                _add(tar, MANIFEST, io.BytesIO(data), len(data))
            sink.close()
        except BaseException:
            sink.close()
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, output)
    return Created(output, output.stat().st_size, bool(passphrase), manifest, missing)
