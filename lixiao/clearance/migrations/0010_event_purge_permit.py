"""Audit events stay append-only, except for the one deliberate path that purges old ones.

An UPDATE is always refused. A DELETE is refused unless the connection that runs it holds the
purge permit, which only `clearance.services.audit.deletion_permitted()` grants, inside one
transaction (clearance.services.purge, audited):

- PostgreSQL: the transaction-local setting lixiao.audit_purge = 'on' (set_config(…, true)):
  it ends with the transaction, and no other session sees it.
- SQLite has no session variables: the trigger asks lixiao_audit_purge(), a function the
  application registers on each of its own connections (clearance.apps) and which answers from
  a flag on that connection. Any other client — the sqlite3 shell, another program — has no
  such function, so its DELETE fails: the guard fails closed.
"""

from django.db import migrations

SQLITE_FORWARDS = [
    "DROP TRIGGER IF EXISTS clearance_event_no_delete;",
    "CREATE TRIGGER clearance_event_no_delete BEFORE DELETE ON clearance_event "
    "WHEN NOT lixiao_audit_purge() "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS clearance_event_no_delete;",
    "CREATE TRIGGER clearance_event_no_delete BEFORE DELETE ON clearance_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
]
POSTGRES_FORWARDS = [
    "CREATE OR REPLACE FUNCTION clearance_event_append_only() RETURNS trigger AS $$ "
    "BEGIN "
    "IF TG_OP = 'DELETE' AND current_setting('lixiao.audit_purge', true) = 'on' THEN "
    "RETURN OLD; "
    "END IF; "
    "RAISE EXCEPTION 'audit events are append-only'; "
    "END; $$ LANGUAGE plpgsql;",
]
POSTGRES_BACKWARDS = [
    "CREATE OR REPLACE FUNCTION clearance_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;",
]


def _run(schema_editor, postgres, sqlite):
    statements = postgres if schema_editor.connection.vendor == "postgresql" else sqlite
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_FORWARDS, SQLITE_FORWARDS)


def backwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_BACKWARDS, SQLITE_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [("clearance", "0009_lifecycle")]
    operations = [migrations.RunPython(forwards, backwards)]
