"""Pull: run a source's configured read-only query against another database and store the rows."""

import os
import re
import sqlite3
from dataclasses import dataclass, field

from lixiao.integrations.models import IntegrationSource
from lixiao.integrations.services import rows as source_rows

KEYS = ("student_number", "cleared", "reason", "amount")
_SELECT = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


class PullError(Exception):
    """The pull cannot run; the message says what to fix in the source's configuration."""


@dataclass
class Pulled:
    stored: source_rows.Stored
    rows: int
    errors: list[str] = field(default_factory=list)


def resolve_url(value: str) -> str:
    """'env:NAME' reads the URL from the environment, so a password stays out of the database."""
    if value.startswith("env:"):
        url = os.environ.get(value[4:], "")
        if not url:
            raise PullError(f"环境变量 {value[4:]} 未设置：请在服务器上设置拉取数据库地址")
        return url
    return value


def check_query(query: str) -> None:
    # The connection is read-only as well; this only gives an early, readable refusal.
    if not _SELECT.match(query or "") or ";" in query.strip().rstrip(";"):
        raise PullError("拉取查询只能是一条 SELECT（或 WITH … SELECT）语句")


def fetch(url: str, query: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of the query, read through a read-only connection."""
    check_query(query)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not os.path.exists(path):
            raise PullError(f"找不到 SQLite 数据库文件：{path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            cursor = conn.execute(query.strip().rstrip(";"))
            return [d[0] for d in cursor.description], cursor.fetchall()
        except sqlite3.Error as exc:
            raise PullError(f"拉取查询出错：{exc}") from None
        finally:
            conn.close()
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        try:
            with (
                psycopg.connect(
                    url,
                    connect_timeout=10,
                    options="-c default_transaction_read_only=on -c statement_timeout=120000",
                ) as conn,
                conn.cursor() as cursor,
            ):
                cursor.execute(query.strip().rstrip(";"))
                return [d.name for d in cursor.description], cursor.fetchall()
        except psycopg.Error as exc:
            raise PullError(f"拉取查询出错：{str(exc).strip().splitlines()[0]}") from None
    raise PullError("拉取数据库地址须以 sqlite:/// 或 postgres:// 开头")


def pull_source(source: IntegrationSource) -> Pulled:
    """Replace the source's rows with the query's result; bad rows are reported and left out."""
    if not source.pulls:
        raise PullError(f"{source.name}未配置拉取")
    names, records = fetch(resolve_url(source.pull_url), source.pull_query)
    mapping = {key: (source.pull_columns or {}).get(key) or key for key in KEYS}
    missing = [mapping[k] for k in ("student_number", "cleared") if mapping[k] not in names]
    if missing:
        raise PullError(f"拉取结果缺少列：{'、'.join(missing)}（现有列：{'、'.join(names)}）")
    index = {key: names.index(col) for key, col in mapping.items() if col in names}
    good, errors, seen = [], [], set()
    for n, record in enumerate(records, start=1):
        data = {key: record[i] for key, i in index.items()}
        if data.get("student_number") is not None:
            data["student_number"] = str(data["student_number"]).strip()
        try:
            row = source_rows.parse_row(data, strict=False)
        except ValueError as exc:
            errors.append(f"第 {n} 行：{exc}")
            continue
        if row.student_number in seen:
            errors.append(f"第 {n} 行：学号 {row.student_number} 重复，已按第一次出现处理")
            continue
        seen.add(row.student_number)
        good.append(row)
    # A pull is a full snapshot: students it no longer lists lose their row and fail closed.
    stored = source_rows.store(source, good, mode="replace")
    return Pulled(stored=stored, rows=len(records), errors=errors)
