#!/usr/bin/env bash
# Run every test on SQLite, then on PostgreSQL when one is reachable; say which ran.
# LIXIAO_TEST_DATABASES=sqlite or =postgres runs one of the two (make test-sqlite / test-postgres);
# asked for by name, an unreachable PostgreSQL is a failure rather than a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${DATABASE_URL_PG:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
DATABASES="${LIXIAO_TEST_DATABASES:-sqlite postgres}"
case " $DATABASES " in
  " sqlite postgres "|" sqlite "|" postgres ") ;;
  *) echo "LIXIAO_TEST_DATABASES must be sqlite or postgres, not '$DATABASES'." >&2; exit 2 ;;
esac
[ "$DATABASES" = "postgres" ] && LIXIAO_REQUIRE_POSTGRES=1
ran=()
status=0

if [[ " $DATABASES " != *" sqlite "* ]]; then
  echo "Browser tests: not run (they run with the SQLite tests)."
elif [ -x /usr/bin/chromium ]; then
  echo "Browser tests: on (/usr/bin/chromium)."
else
  echo "Browser tests: skipped — /usr/bin/chromium is not installed (apt-get install chromium)."
fi

if [[ " $DATABASES " == *" sqlite "* ]]; then
  echo "== tests on SQLite =="
  env -u DATABASE_URL LIXIAO_VAR_DIR="$(mktemp -d)" $PY -m pytest "$@"
  rc=$?; [ $rc -ne 0 ] && status=$rc
  ran+=("SQLite (rc=$rc)")
fi

if [[ " $DATABASES " != *" postgres "* ]]; then
  :
elif $PY - "$PG_URL" <<'PYEOF' 2>/dev/null
# The tests run in test_<name>, which Django creates from the server's maintenance database:
# the named database itself need not exist (as Django does, fall back to it if that is refused).
import sys, psycopg, dj_database_url
c = dj_database_url.parse(sys.argv[1])
for dbname in ("postgres", c["NAME"]):
    try:
        psycopg.connect(host=c["HOST"], port=c["PORT"] or 5432, user=c["USER"],
                        password=c["PASSWORD"] or None, dbname=dbname, connect_timeout=3).close()
        break
    except psycopg.OperationalError:
        continue
else:
    sys.exit(1)
PYEOF
then
  echo "== tests on PostgreSQL ($PG_URL) =="
  DATABASE_URL="$PG_URL" LIXIAO_VAR_DIR="$(mktemp -d)" $PY -m pytest -m "not browser" "$@"
  rc=$?; [ $rc -ne 0 ] && status=$rc
  ran+=("PostgreSQL (rc=$rc)")
else
  if [ "${LIXIAO_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL is required here but $PG_URL is not reachable: start it or set DATABASE_URL_PG." >&2
    status=1
  else
    echo "PostgreSQL not reachable at $PG_URL: PostgreSQL run skipped."
  fi
fi

echo "Databases tested: ${ran[*]}"
exit $status
