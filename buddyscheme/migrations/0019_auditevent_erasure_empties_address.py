"""Erasure may also empty where a person's own actions came from: the access log's rows
keep who (an id) and what, but the erased person's IP address and browser string go.

The append-only trigger of 0017 is narrowed the same way it already allows `actor_id` and
`scheme_id` to go NULL: `ip_address` may now go NULL and `user_agent` may go empty, never to
another value. Every other column must stay as written; DELETE is still refused. (A later migration that
rebuilds this table on SQLite must create these triggers again, as 0017 says.)
"""

from django.db import migrations

KEPT_COLUMNS = ("id", "verb", "object_type_id", "object_id", "at")


def _function(unchanged: str, emptied: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION buddyscheme_auditevent_refuse() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND {unchanged}
           AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
           AND (NEW.scheme_id IS NULL OR NEW.scheme_id IS NOT DISTINCT FROM OLD.scheme_id)
           {emptied}
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused';
    END $$ LANGUAGE plpgsql;
    """


def _sqlite_trigger(unchanged: str, emptied: str) -> str:
    return f"""CREATE TRIGGER buddyscheme_auditevent_no_update BEFORE UPDATE ON buddyscheme_auditevent
       WHEN NOT ({unchanged}
                 AND (NEW.actor_id IS NULL OR NEW.actor_id IS OLD.actor_id)
                 AND (NEW.scheme_id IS NULL OR NEW.scheme_id IS OLD.scheme_id)
                 {emptied})
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;"""


def _pg_unchanged(columns):
    return " AND ".join(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in columns)


def _sqlite_unchanged(columns):
    return " AND ".join(f"NEW.{column} IS OLD.{column}" for column in columns)


PG_EMPTIED = """AND (NEW.ip_address IS NULL OR NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address)
           AND (NEW.user_agent = '' OR NEW.user_agent IS NOT DISTINCT FROM OLD.user_agent)"""
SQLITE_EMPTIED = """AND (NEW.ip_address IS NULL OR NEW.ip_address IS OLD.ip_address)
                 AND (NEW.user_agent = '' OR NEW.user_agent IS OLD.user_agent)"""
ALL_COLUMNS = (*KEPT_COLUMNS, "ip_address", "user_agent")

NARROWED = {
    "postgresql": [_function(_pg_unchanged(KEPT_COLUMNS), PG_EMPTIED)],
    "sqlite": [
        "DROP TRIGGER IF EXISTS buddyscheme_auditevent_no_update",
        _sqlite_trigger(_sqlite_unchanged(KEPT_COLUMNS), SQLITE_EMPTIED),
    ],
}
AS_BEFORE = {
    "postgresql": [_function(_pg_unchanged(ALL_COLUMNS), "")],
    "sqlite": [
        "DROP TRIGGER IF EXISTS buddyscheme_auditevent_no_update",
        _sqlite_trigger(_sqlite_unchanged(ALL_COLUMNS), ""),
    ],
}


def narrow(apps, schema_editor):
    for statement in NARROWED.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def restore(apps, schema_editor):
    for statement in AS_BEFORE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("buddyscheme", "0018_erasure_and_retention")]
    operations = [migrations.RunPython(narrow, restore)]
