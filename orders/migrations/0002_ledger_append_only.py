"""PostgreSQL refuses UPDATE and DELETE on the ledger: it is append-only (DESIGN §5.3)."""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION orders_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'orders_ledgerentry is append-only: write a reversing entry instead'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_ledger_append_only
    BEFORE UPDATE OR DELETE ON orders_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION orders_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS orders_ledger_append_only ON orders_ledgerentry;
DROP FUNCTION IF EXISTS orders_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
