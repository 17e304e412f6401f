"""The merchant-carrier-day rollup's UPDATE trigger functions, installed again from
yinzunda.rollups: the rows whose watched columns changed are paired in one hash join of the
transition tables, not a nested loop quadratic in the rows updated. A batch of scans moves
hundreds of waybill statuses at once, and that nested loop cost 12 ms of its 30 ms statement at
50 M stored events (docs/PERFORMANCE.md); the figures are the same, kept the same way."""
import importlib

from django.db import migrations

ROLLUP = importlib.import_module("claims.migrations.0015_merchant_carrier_day_rollup").ROLLUP


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROLLUP.create_sql())


class Migration(migrations.Migration):

    dependencies = [("claims", "0016_claim_source_event_no_db_constraint"), ("orders", "0008_rollup_update_triggers")]

    # Backwards keeps the newer bodies: they compute the same deltas.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
