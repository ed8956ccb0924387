"""Database-level freeze: a contract's text and hash, and any signature, can never be changed.

Deleting stays possible: retention and erasure must be able to remove a person's records.
"""

from django.db import migrations

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION contracts_refuse_change() RETURNS trigger AS $$
    BEGIN
        IF TG_TABLE_NAME = 'contracts_contract' THEN
            IF NEW.text IS DISTINCT FROM OLD.text OR NEW.sha256 IS DISTINCT FROM OLD.sha256 THEN
                RAISE EXCEPTION 'a signed contract''s text is frozen';
            END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'signatures cannot be changed';
    END $$ LANGUAGE plpgsql;
    """,
    """CREATE TRIGGER contracts_contract_freeze BEFORE UPDATE ON contracts_contract
       FOR EACH ROW EXECUTE FUNCTION contracts_refuse_change();""",
    """CREATE TRIGGER contracts_signature_freeze BEFORE UPDATE ON contracts_signature
       FOR EACH ROW EXECUTE FUNCTION contracts_refuse_change();""",
]
SQLITE = [
    """CREATE TRIGGER contracts_contract_freeze BEFORE UPDATE OF text, sha256 ON contracts_contract
       WHEN NEW.text IS NOT OLD.text OR NEW.sha256 IS NOT OLD.sha256
       BEGIN SELECT RAISE(ABORT, 'a signed contract''s text is frozen'); END;""",
    """CREATE TRIGGER contracts_signature_no_update BEFORE UPDATE ON contracts_signature
       BEGIN SELECT RAISE(ABORT, 'signatures cannot be changed'); END;""",
]
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS contracts_contract_freeze ON contracts_contract",
        "DROP TRIGGER IF EXISTS contracts_signature_freeze ON contracts_signature",
        "DROP FUNCTION IF EXISTS contracts_refuse_change()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS contracts_contract_freeze",
        "DROP TRIGGER IF EXISTS contracts_signature_no_update",
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
    dependencies = [("contracts", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
