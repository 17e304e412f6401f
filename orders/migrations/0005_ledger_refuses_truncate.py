"""PostgreSQL also refuses TRUNCATE on the ledger (directly or by CASCADE from claims, purchases
or tracking events): append-only means no statement empties it (DESIGN §5.3, issue 9).

Test suites and benchmarks empty their own throwaway databases between runs: a session that
says `SET yinzunda.ledger_maintenance = 'on'` may TRUNCATE (never UPDATE or DELETE a row). Like
the trigger itself, this guards against mistakes in the application, not against a database
owner, who could drop the trigger anyway.
"""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION orders_ledger_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('yinzunda.ledger_maintenance', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'orders_ledgerentry is append-only: TRUNCATE is refused'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_ledger_no_truncate
    BEFORE TRUNCATE ON orders_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION orders_ledger_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS orders_ledger_no_truncate ON orders_ledgerentry;
DROP FUNCTION IF EXISTS orders_ledger_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_merchant_email_digest")]
    operations = [migrations.RunPython(forwards, backwards)]
