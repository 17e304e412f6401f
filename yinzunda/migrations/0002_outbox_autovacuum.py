"""Autovacuum of the outbox (issue 15 item 4; docs/SCALING.md, "PostgreSQL settings").

Every message is inserted, then updated as it is published, started and done, and the done ones
are deleted after a while: a small table of mostly dead rows unless vacuumed after 1 % of it
changed (the default waits for 20 %). Nothing to set on SQLite (`make run`).
"""
from django.db import migrations

SET = "autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02"
RESET = "autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor"


def _alter(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sql)


def forwards(apps, schema_editor) -> None:
    _alter(schema_editor, f"ALTER TABLE yinzunda_outboxmessage SET ({SET})")


def backwards(apps, schema_editor) -> None:
    _alter(schema_editor, f"ALTER TABLE yinzunda_outboxmessage RESET ({RESET})")


class Migration(migrations.Migration):

    dependencies = [("yinzunda", "0001_outbox_ratecounter_alert")]

    operations = [migrations.RunPython(forwards, backwards)]
