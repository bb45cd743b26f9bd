#!/usr/bin/env bash
# Run every test on SQLite, then on PostgreSQL when one is reachable; say which ran.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${DATABASE_URL_PG:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
ran=()
status=0

if [ -x /usr/bin/chromium ]; then
  echo "Browser tests: on (/usr/bin/chromium)."
else
  echo "Browser tests: skipped — /usr/bin/chromium is not installed (apt-get install chromium)."
fi

echo "== tests on SQLite =="
env -u DATABASE_URL LIXIAO_VAR_DIR="$(mktemp -d)" $PY -m pytest "$@"
rc=$?; [ $rc -ne 0 ] && status=$rc
ran+=("SQLite (rc=$rc)")

if $PY - "$PG_URL" <<'PYEOF' 2>/dev/null
import sys, psycopg, dj_database_url
c = dj_database_url.parse(sys.argv[1])
psycopg.connect(host=c["HOST"], port=c["PORT"] or 5432, user=c["USER"], password=c["PASSWORD"] or None,
                dbname=c["NAME"], connect_timeout=3).close()
PYEOF
then
  echo "== tests on PostgreSQL ($PG_URL) =="
  DATABASE_URL="$PG_URL" LIXIAO_VAR_DIR="$(mktemp -d)" $PY -m pytest -m "not browser" "$@"
  rc=$?; [ $rc -ne 0 ] && status=$rc
  ran+=("PostgreSQL (rc=$rc)")
else
  if [ "${LIXIAO_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL is required here (LIXIAO_REQUIRE_POSTGRES=1) but $PG_URL is not reachable." >&2
    status=1
  fi
  echo "PostgreSQL not reachable at $PG_URL: PostgreSQL run skipped."
fi

echo "Databases tested: ${ran[*]}"
exit $status
