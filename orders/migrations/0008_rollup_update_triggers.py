"""The merchant-day rollup's UPDATE trigger functions, installed again from yinzunda.rollups: the
rows whose watched columns changed are paired in one hash join of the transition tables, not a
nested loop quadratic in the rows updated (the same figures, kept the same way)."""
import importlib

from django.db import migrations

ROLLUP = importlib.import_module("orders.migrations.0007_merchant_day_rollup").ROLLUP


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROLLUP.create_sql())


class Migration(migrations.Migration):

    dependencies = [("orders", "0007_merchant_day_rollup")]

    # Backwards keeps the newer bodies: they compute the same deltas.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
