"""Database-level append-only access log: the audit table refuses UPDATE and DELETE.

The one change allowed is the one the model names: Django's SET_NULL emptying `actor_id` or
`scheme_id` when that user or scheme is deleted outright (erasure). Every other column must
stay as written, and those two may only go to NULL, never to another person or scheme.

TRUNCATE is not refused on PostgreSQL (Django's test flush uses it, and only the table's owner
may run it: the application's role should not own its tables in production). On SQLite, a
later migration that rebuilds this table drops the triggers: such a migration must create
them again (tests/buddyscheme/test_access_log.py fails if they are missing).
"""

from django.db import migrations

# Every column except actor_id and scheme_id must be unchanged; those two may stay or go NULL.
UNCHANGED_PG = " AND ".join(
    f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}"
    for column in (
        "id",
        "verb",
        "object_type_id",
        "object_id",
        "at",
        "ip_address",
        "user_agent",
    )
)
UNCHANGED_SQLITE = " AND ".join(
    f"NEW.{column} IS OLD.{column}"
    for column in (
        "id",
        "verb",
        "object_type_id",
        "object_id",
        "at",
        "ip_address",
        "user_agent",
    )
)

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION buddyscheme_auditevent_refuse() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND {UNCHANGED_PG}
           AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
           AND (NEW.scheme_id IS NULL OR NEW.scheme_id IS NOT DISTINCT FROM OLD.scheme_id)
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused';
    END $$ LANGUAGE plpgsql;
    """,
    """CREATE TRIGGER buddyscheme_auditevent_append_only
       BEFORE UPDATE OR DELETE ON buddyscheme_auditevent
       FOR EACH ROW EXECUTE FUNCTION buddyscheme_auditevent_refuse();""",
]
SQLITE = [
    f"""CREATE TRIGGER buddyscheme_auditevent_no_update BEFORE UPDATE ON buddyscheme_auditevent
       WHEN NOT ({UNCHANGED_SQLITE}
                 AND (NEW.actor_id IS NULL OR NEW.actor_id IS OLD.actor_id)
                 AND (NEW.scheme_id IS NULL OR NEW.scheme_id IS OLD.scheme_id))
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER buddyscheme_auditevent_no_delete BEFORE DELETE ON buddyscheme_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END;""",
]
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS buddyscheme_auditevent_append_only ON buddyscheme_auditevent",
        "DROP FUNCTION IF EXISTS buddyscheme_auditevent_refuse()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS buddyscheme_auditevent_no_update",
        "DROP TRIGGER IF EXISTS buddyscheme_auditevent_no_delete",
    ],
}


def create(apps, schema_editor):
    statements = {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("buddyscheme", "0016_referrals")]
    operations = [migrations.RunPython(create, drop)]
