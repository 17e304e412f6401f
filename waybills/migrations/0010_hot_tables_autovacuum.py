"""Autovacuum per hot table (issue 15 item 4; docs/SCALING.md, "PostgreSQL settings").

- waybills_waybill: updated once per parcel per scan batch. Vacuumed and analyzed after 2 % of
  its rows changed (the default 20 % lets millions of dead rows pile up), and fillfactor 80
  leaves room on each page for HOT updates (pages written from now on; VACUUM FULL or
  pg_repack applies it to the old ones).
- every partition of waybills_trackingevent: insert-only, vacuumed and analyzed after 1 % new
  rows (the same values waybills.partitioning.PARTITION_STORAGE gives each partition it
  creates later; PostgreSQL keeps no storage parameters on a partitioned parent).
On SQLite (`make run`) there is nothing to set.
"""
from django.db import migrations

WAYBILL = "fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02"
WAYBILL_RESET = "fillfactor, autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor"
PARTITION = "autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01"
PARTITION_RESET = "autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor"


def _leaves(cursor) -> list[str]:
    cursor.execute("SELECT relid::text FROM pg_partition_tree('waybills_trackingevent') WHERE isleaf")
    return [name for name, in cursor.fetchall() if name != "waybills_trackingevent"]


def _apply(schema_editor, verb: str, waybill: str, partition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE waybills_waybill {verb} ({waybill})")
        for leaf in _leaves(cursor):
            cursor.execute(f'ALTER TABLE "{leaf}" {verb} ({partition})')


def forwards(apps, schema_editor) -> None:
    _apply(schema_editor, "SET", WAYBILL, PARTITION)


def backwards(apps, schema_editor) -> None:
    _apply(schema_editor, "RESET", WAYBILL_RESET, PARTITION_RESET)


class Migration(migrations.Migration):

    dependencies = [("waybills", "0009_trackingevent_fk_checks_drop")]

    operations = [migrations.RunPython(forwards, backwards)]
