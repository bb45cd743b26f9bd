"""Audit events are append-only in the database itself, not just in the ORM."""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER clearance_event_no_update BEFORE UPDATE ON clearance_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
    "CREATE TRIGGER clearance_event_no_delete BEFORE DELETE ON clearance_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION clearance_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;",
    "CREATE TRIGGER clearance_event_no_change BEFORE UPDATE OR DELETE ON clearance_event "
    "FOR EACH ROW EXECUTE FUNCTION clearance_event_append_only();",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS clearance_event_no_change ON clearance_event;")
        schema_editor.execute("DROP FUNCTION IF EXISTS clearance_event_append_only();")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS clearance_event_no_update;")
        schema_editor.execute("DROP TRIGGER IF EXISTS clearance_event_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("clearance", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
