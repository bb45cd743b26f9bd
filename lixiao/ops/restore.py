"""manage.py restore's work: every check first, then the database, then the uploaded files.

Refused before anything is written: a file that is not a Lixiao backup, a wrong or missing
LIXIAO_BACKUP_KEY, another Lixiao version or other migrations than this code's, another
database engine, a target database that is not empty, a damaged member (checksums), an uploaded
file whose name is taken by a different file. After the database is in, its row counts are
compared with the manifest's.
"""

import hashlib
import json
import posixpath
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.migrations.loader import MigrationLoader

from lixiao import keyring
from lixiao.ops import archive, dumps, sealing
from lixiao.ops.archive import BackupError


def known_migrations() -> list[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.disk_migrations)


def applied_migrations(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


REQUIRED = {
    "format": str, "lixiao_version": str, "created_at": str, "database": dict, "migrations": list,
    "tables": dict, "files": list,
}  # fmt: skip


def check_version(manifest: dict) -> None:
    if not isinstance(manifest, dict) or any(
        not isinstance(manifest.get(key), kind) for key, kind in REQUIRED.items()
    ):
        raise BackupError("备份清单 manifest.json 不完整：这不是本程序写出的备份，或已损坏")
    if manifest.get("format") != archive.FORMAT:
        raise BackupError(
            f"备份格式 {manifest.get('format')!r} 不是本程序能读的 {archive.FORMAT}：请用制作它的 Lixiao 版本恢复"
        )
    theirs, ours = manifest["lixiao_version"], archive.version()
    if theirs != ours:
        raise BackupError(
            f"备份来自 Lixiao {theirs}，当前程序是 Lixiao {ours}：版本不同，拒绝恢复。"
            f"请先安装 Lixiao {theirs} 恢复这个备份，再按 docs/upgrade.md 升级到 {ours}"
        )
    archived, known = set(manifest["migrations"]), set(known_migrations())
    if archived != known:
        extra = sorted(archived - known)[:5]
        lacking = sorted(known - archived)[:5]
        raise BackupError(
            f"备份的数据库迁移状态与当前程序不同（备份多出：{extra or '无'}；备份缺少：{lacking or '无'}）："
            "请用制作备份时的同一版本程序恢复，再按 docs/upgrade.md 升级"
        )


def ensure_empty(connection) -> None:
    tables = connection.introspection.table_names()
    if tables:
        where = connection.settings_dict["NAME"]
        raise BackupError(
            f"目标数据库 {where} 不是空的（已有 {len(tables)} 张表，如 {', '.join(sorted(tables)[:3])}）："
            "恢复只写入空数据库，不会覆盖现有数据。请新建一个空数据库（PostgreSQL：createdb；"
            "SQLite：一个尚不存在的文件），让 DATABASE_URL 指向它后再运行 restore"
        )


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and posixpath.normpath(name) == name
        and ".." not in parts
    )


def _storage_for(entry: dict):
    fields = dict(dumps.file_fields())
    for label in entry["fields"]:
        if label in fields:
            return fields[label].storage
    return default_storage


def _member(tar: tarfile.TarFile, name: str):
    try:
        info = tar.getmember(name)
    except KeyError:
        raise BackupError(f"备份文件缺少 {name}：备份不完整，请换一个备份") from None
    if not info.isfile():
        raise BackupError(f"备份中的 {name} 不是普通文件：备份文件已损坏")
    return tar.extractfile(info)


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    while chunk := fileobj.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _plan_files(tar, manifest: dict) -> list[tuple[dict, object]]:
    """The files to write: each checked against its checksum; one already stored with the same
    content is skipped, one stored with other content refuses the restore."""
    plan = []
    for entry in manifest["files"]:
        name = entry["name"]
        if not _safe_name(name):
            raise BackupError(f"备份中的文件名 {name!r} 不安全：拒绝恢复")
        if _sha256(_member(tar, archive.FILES_PREFIX + name)) != entry["sha256"]:
            raise BackupError(f"备份中的上传文件 {name} 校验和不符：备份文件已损坏，请换一个备份")
        storage = _storage_for(entry)
        if storage.exists(name):
            with storage.open(name, "rb") as current:
                if _sha256(current) == entry["sha256"]:
                    continue
            raise BackupError(
                f"文件存储中已有同名而内容不同的文件 {name}：请清空上传文件目录（或对象存储）后再恢复"
            )
        plan.append((entry, storage))
    return plan


def _count(connection, tables: dict) -> list[str]:
    wrong = []
    with connection.cursor() as cursor:
        for table, expected in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            (found,) = cursor.fetchone()
            if found != expected:
                wrong.append(f"{table} {found}≠{expected}")
    return wrong


def restore(
    path, connection, passphrase: str | None = None, files_only: bool = False, dry_run: bool = False
) -> dict:
    """Restore the archive at `path` into `connection`'s database and the files' storages.
    dry_run: every check (key, manifest, version, empty target, checksums), nothing written."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}")
    work_root = Path(settings.VAR_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_root, prefix=".lixiao-restore-") as tmp:
        workdir = Path(tmp)
        tar_path = path
        if sealing.is_sealed(path):
            if not passphrase:
                raise BackupError(
                    "这个备份已加密：请设置 LIXIAO_BACKUP_KEY（备份时用的密钥）后再恢复"
                )
            tar_path = workdir / "archive.tar"
            try:
                sealing.unseal_file(path, tar_path, passphrase)
            except sealing.SealError:
                raise BackupError(
                    "无法解密备份：LIXIAO_BACKUP_KEY 与备份时的密钥不同，或备份文件已损坏"
                ) from None
        try:
            tar = tarfile.open(tar_path, "r:")
        except tarfile.TarError:
            raise BackupError(f"{path} 不是 Lixiao 备份文件（也可能已损坏）") from None
        with tar:
            try:
                manifest = json.load(_member(tar, archive.MANIFEST))
            except (BackupError, ValueError):
                raise BackupError(
                    f"{path} 不是 Lixiao 备份文件（没有可读的 manifest.json）"
                ) from None
            check_version(manifest)
            vendor = manifest["database"]["vendor"]
            if vendor != connection.vendor:
                raise BackupError(
                    f"备份来自 {vendor} 数据库，DATABASE_URL 指向 {connection.vendor}："
                    "请让 DATABASE_URL 指向同一种数据库的空库"
                )
            if files_only:
                if applied_migrations(connection) != manifest["migrations"]:
                    raise BackupError("--files-only 需要已恢复好的同一版本数据库：迁移状态不同")
            else:
                ensure_empty(connection)
            plan = _plan_files(tar, manifest)
            if dry_run:
                database = manifest["database"]
                if not dumps._matches(_member(tar, database["member"]), database["sha256"]):
                    raise BackupError("备份中的数据库文件校验和不符：备份文件已损坏，请换一个备份")
                plan = []
            elif not files_only:
                member = _member(tar, manifest["database"]["member"])
                restore_db = dumps.sqlite_restore if vendor == "sqlite" else dumps.postgres_restore
                try:
                    restore_db(connection, member, manifest["database"]["sha256"], workdir)
                except dumps.DumpError as exc:
                    raise BackupError(str(exc)) from None
                wrong = _count(connection, manifest["tables"])
                if wrong:
                    raise BackupError(f"恢复后的行数与备份清单不符：{'; '.join(wrong[:5])}")
            for entry, storage in plan:
                with _member(tar, archive.FILES_PREFIX + entry["name"]) as src:
                    saved = storage.save(entry["name"], File(src, name=entry["name"]))
                if saved != entry["name"]:
                    raise BackupError(f"文件 {entry['name']} 被存储改名为 {saved}：请检查文件存储")
    manifest["needs_keys"] = sorted(
        kid
        for kid in manifest.get("key_ids", {})
        if kid != "legacy" and kid not in {k.id for k in keyring.configured()}
    )
    return manifest
