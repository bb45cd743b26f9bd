"""The database part of a backup: a consistent snapshot out, and back into an empty database.

SQLite: the online backup API copies the live database in one step (a WAL reader: writers go
on meanwhile), gzip'ed into the archive. PostgreSQL: pg_dump's custom format, run on a snapshot
exported by our own REPEATABLE READ transaction — the facts put into the manifest (row counts,
file names, migrations) are read in that same transaction, so they describe exactly the dump.
Restore: PostgreSQL through pg_restore in one transaction; SQLite by moving the checked copy
into place. Either way the target must be empty, and nothing is changed until every check passed.
"""

import gzip
import hashlib
import os
import shutil
import sqlite3
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import models, transaction

from lixiao import keyring

SQLITE_MEMBER = "database.sqlite3.gz"
POSTGRES_MEMBER = "database.pgdump"


class DumpError(Exception):
    """A message for the operator: what went wrong and what to do."""


@dataclass
class Facts:
    """What the snapshot holds, for the manifest and the checks after a restore."""

    migrations: list[str]
    tables: dict[str, int]
    files: list[tuple[str, str]]  # (field label, stored name)
    key_ids: dict[str, int]  # key id (or "legacy") → sealed values


def file_fields() -> list[tuple[str, models.FileField]]:
    """Every FileField of a concrete model: 'app_label.Model.field' and the field."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                found.append((f"{model._meta.label}.{field.name}", field))
    return found


def _sealed_columns() -> list[tuple[str, str]]:
    from lixiao.accounts.models import TOTPDevice
    from lixiao.directory.models import Staff, Student

    return [
        (Student._meta.db_table, "id_number_enc"),
        (Staff._meta.db_table, "id_number_enc"),
        (TOTPDevice._meta.db_table, "secret_enc"),
    ]


def model_tables() -> list[str]:
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    return sorted(tables | {"django_migrations"})


def read_facts(cursor, existing_tables: set[str], quote) -> Facts:
    """Read through a DB-API cursor of the snapshot itself (the same SQL on both engines)."""
    cursor.execute("SELECT app, name FROM django_migrations")
    migrations = sorted(f"{app}.{name}" for app, name in cursor.fetchall())
    tables = {}
    for table in model_tables():
        if table in existing_tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (our table names)
            tables[table] = cursor.fetchone()[0]
    files = []
    for label, field in file_fields():
        table = field.model._meta.db_table
        if table not in existing_tables:
            continue
        column = quote(field.column)
        cursor.execute(
            f"SELECT DISTINCT {column} FROM {quote(table)}"  # noqa: S608
            f" WHERE {column} IS NOT NULL AND {column} <> '' ORDER BY {column}"
        )
        files += [(label, name) for (name,) in cursor.fetchall()]
    key_ids: dict[str, int] = {}
    for table, column in _sealed_columns():
        if table not in existing_tables:
            continue
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} <> ''")  # noqa: S608
        for (token,) in cursor.fetchall():
            kid = keyring.key_id_of(token) or "legacy"
            key_ids[kid] = key_ids.get(kid, 0) + 1
    return Facts(migrations, tables, files, key_ids)


# --- SQLite ----------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_snapshot(connection, workdir: Path) -> tuple[Path, Facts]:
    """Copy the live database with the backup API, read its facts, gzip it: the member path."""
    connection.ensure_connection()
    copy_path = workdir / "database.sqlite3"
    copy = sqlite3.connect(copy_path)
    try:
        # pages=-1 (the default): one step, so the copy is one consistent moment even while
        # other processes write (in WAL mode they are not blocked by this reader).
        connection.connection.backup(copy)
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        existing = {name for (name,) in cursor.fetchall()}
        facts = read_facts(cursor, existing, _quote)
    finally:
        copy.close()
    member = workdir / SQLITE_MEMBER
    with open(copy_path, "rb") as src, gzip.open(member, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    copy_path.unlink()
    return member, facts


def sqlite_target(connection) -> Path:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise DumpError("DATABASE_URL 指向内存数据库：恢复需要一个 SQLite 文件路径")
    return Path(name)


def _matches(member_file, sha256: str) -> bool:
    """Whether the member's SHA-256 is this; the member is read to its end and rewound."""
    digest = hashlib.sha256()
    while chunk := member_file.read(1 << 20):
        digest.update(chunk)
    member_file.seek(0)
    return digest.hexdigest() == sha256


def sqlite_restore(connection, member_file, sha256: str, workdir: Path) -> None:
    """Check the member's checksum, unzip it next to the target (not in `workdir`: the rename
    must stay on one file system to be atomic), check the database file itself; only then
    move it into place (one rename: all or nothing)."""
    target = sqlite_target(connection)
    if not _matches(member_file, sha256):
        raise DumpError("备份中的数据库文件校验和不符：备份文件已损坏，请换一个备份")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.restoring"
    try:
        try:
            with gzip.GzipFile(fileobj=member_file, mode="rb") as src, open(staged, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError, zlib.error):
            raise DumpError("备份中的数据库文件无法解压：备份文件已损坏，请换一个备份") from None
        check = sqlite3.connect(staged)
        try:
            (result,) = check.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            result = str(exc)
        finally:
            check.close()
        if result != "ok":
            raise DumpError(f"备份中的数据库未通过完整性检查（{result}）：请换一个备份")
        connection.close()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_env(settings_dict) -> dict:
    """libpq's variables for pg_dump/pg_restore: the password never appears on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": (settings_dict.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({k: str(v) for k, v in values.items() if v})
    return env


def _run(args: list[str], settings_dict, what: str) -> None:
    try:
        result = subprocess.run(
            args, env=_pg_env(settings_dict), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise DumpError(
            f"找不到 {args[0]}：请安装 PostgreSQL 客户端（Debian/Ubuntu：apt-get install "
            "postgresql-client），其主版本不低于数据库服务器"
        ) from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        detail = "；".join(lines[-3:]) or f"exit {result.returncode}"
        raise DumpError(f"{what}失败：{detail}")


def postgres_snapshot(connection, workdir: Path) -> tuple[Path, Facts]:
    if connection.in_atomic_block:
        raise DumpError("备份不能在数据库事务中运行（pg_dump 看不到未提交的数据）")
    member = workdir / POSTGRES_MEMBER
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        existing = set(connection.introspection.table_names(cursor))
        facts = read_facts(cursor, existing, connection.ops.quote_name)
        # pg_dump reads the very snapshot this transaction holds open until it is done.
        _run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={member}",
            ],
            connection.settings_dict,
            "pg_dump 导出数据库",
        )
    return member, facts


def postgres_restore(connection, member_file, sha256: str, workdir: Path) -> None:
    if not _matches(member_file, sha256):
        raise DumpError("备份中的数据库文件校验和不符：备份文件已损坏，请换一个备份")
    staged = workdir / POSTGRES_MEMBER
    with open(staged, "wb") as out:
        shutil.copyfileobj(member_file, out, 1 << 20)
    connection.close()
    # One transaction: a failure half-way leaves the target as empty as it was.
    _run(
        [
            "pg_restore",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(staged),
        ],
        connection.settings_dict,
        "pg_restore 恢复数据库",
    )
