"""waybills_trackingevent becomes a table partitioned by range of occurred_at (PostgreSQL only).

In the migration's one transaction: the old table is renamed, the partitioned table created
like it (columns, defaults, identity, checks) with PRIMARY KEY (id, occurred_at), partitions
cover the stored range (from the retention horizon) up to YINZUNDA_EVENTS_PARTITIONS_AHEAD
periods ahead, older rows go to the DEFAULT partition; every row moves with its id, the id
sequence continues where it was, the foreign keys and indexes are made again and the old table
dropped. The dedup constraint gains occurred_at (a unique index of a partitioned table must
hold the partition key); relations pointing at an event keep no database constraint.
SQLite (`make run`) keeps the plain table: only the dedup constraint changes there.
"""
import django.db.models.deletion
from django.db import migrations, models

TABLE = "waybills_trackingevent"
OLD = "waybills_trackingevent_unpartitioned"
WAYBILL_INDEX = "waybills_tr_waybill_afb8a9_idx"
OLD_UNIQUE = models.UniqueConstraint(fields=("carrier", "event_id"), name="tracking_event_unique_per_carrier")
NEW_UNIQUE = models.UniqueConstraint(
    fields=("carrier", "event_id", "occurred_at"), name="tracking_event_unique_per_carrier_time"
)


def _fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _rename_away(cursor, q) -> None:
    """The table and its primary key step aside: the new table takes both names."""
    for name, in _fetch(cursor, "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [TABLE]):
        cursor.execute(f"ALTER TABLE {q(TABLE)} RENAME CONSTRAINT {q(name)} TO {q(OLD + '_pkey')}")
    cursor.execute(f"ALTER TABLE {q(TABLE)} RENAME TO {q(OLD)}")


def partition_events_table(schema_editor) -> None:
    """The PostgreSQL conversion (also run by tests on a table of stored rows)."""
    from datetime import UTC, datetime, timedelta

    from django.conf import settings
    from psqlextra.partitioning.constants import AUTO_PARTITIONED_COMMENT

    from waybills.partitioning import DEFAULT_PARTITION, strategy

    q = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        # Foreign keys pointing at one event by id cannot stay: no unique key on id alone.
        for table, name in _fetch(cursor, "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                                          "WHERE confrelid = %s::regclass AND contype = 'f'", [TABLE]):
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}")
        own_fks = _fetch(cursor, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                 "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [TABLE])
        sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0][0]
        last_value, is_called = _fetch(cursor, f"SELECT last_value, is_called FROM {sequence}")[0]  # noqa: S608
        first, rows = _fetch(cursor, f"SELECT min(occurred_at), count(*) FROM {q(TABLE)}")[0]  # noqa: S608

        _rename_away(cursor, q)
        cursor.execute(
            f"CREATE TABLE {q(TABLE)} (LIKE {q(OLD)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS "
            f"INCLUDING STORAGE INCLUDING COMMENTS, PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at)"
        )
        plan = strategy()
        now = datetime.now(UTC)
        horizon = now - timedelta(days=settings.YINZUNDA_EVENTS_RETENTION_DAYS) - timedelta(days=31)
        for partition in plan.covering(max(first or now, horizon)):
            name = partition.table()
            cursor.execute(f"CREATE TABLE {q(name)} PARTITION OF {q(TABLE)} FOR VALUES FROM (%s) TO (%s)",
                           [partition.start, partition.end])
            cursor.execute(f"COMMENT ON TABLE {q(name)} IS %s", [AUTO_PARTITIONED_COMMENT])
        # The safety net: scans older than the first partition, or beyond the last one created.
        cursor.execute(f"CREATE TABLE {q(DEFAULT_PARTITION)} PARTITION OF {q(TABLE)} DEFAULT")

        cursor.execute(f"INSERT INTO {q(TABLE)} SELECT * FROM {q(OLD)}")  # noqa: S608 - same columns, LIKE
        assert cursor.rowcount == rows, (cursor.rowcount, rows)
        cursor.execute(f"DROP TABLE {q(OLD)}")
        new_sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0][0]
        cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {q(TABLE + '_id_seq')}")
        # Indexes are built on the filled partitions, each once.
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(NEW_UNIQUE.name)} UNIQUE (carrier_id, event_id, occurred_at)")
        cursor.execute(f"CREATE INDEX {q(WAYBILL_INDEX)} ON {q(TABLE)} (waybill_id, occurred_at)")
        for name, definition in own_fks:
            cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(name)} {definition}")


def unpartition_events_table(schema_editor) -> None:
    """Back to one plain table (fails if a reused event id beyond the horizon was stored)."""
    q = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        own_fks = _fetch(cursor, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                 "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [TABLE])
        sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0][0]
        last_value, is_called = _fetch(cursor, f"SELECT last_value, is_called FROM {sequence}")[0]  # noqa: S608
        _rename_away(cursor, q)
        cursor.execute(
            f"CREATE TABLE {q(TABLE)} (LIKE {q(OLD)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS "
            f"INCLUDING STORAGE INCLUDING COMMENTS, PRIMARY KEY (id))"
        )
        cursor.execute(f"INSERT INTO {q(TABLE)} SELECT * FROM {q(OLD)}")  # noqa: S608
        cursor.execute(f"DROP TABLE {q(OLD)}")
        new_sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0][0]
        cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {q(TABLE + '_id_seq')}")
        cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(OLD_UNIQUE.name)} UNIQUE (carrier_id, event_id)")
        cursor.execute(f"CREATE INDEX {q(WAYBILL_INDEX)} ON {q(TABLE)} (waybill_id, occurred_at)")
        for name, definition in own_fks:
            cursor.execute(f"ALTER TABLE {q(TABLE)} ADD CONSTRAINT {q(name)} {definition}")
        for table, column in (("claims_claim", "source_event_id"), ("waybills_deliveryconsent", "tracking_event_id")):
            cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(f'{table}_{column}_fk_events')} FOREIGN KEY "
                           f"({q(column)}) REFERENCES {q(TABLE)} (id) DEFERRABLE INITIALLY DEFERRED")


class PartitionEventsTable(migrations.operations.base.Operation):
    """The database half: the conversion on PostgreSQL, the constraint swap on SQLite."""

    reversible = True
    sqlite_operations = [
        migrations.RemoveConstraint(model_name="trackingevent", name=OLD_UNIQUE.name),
        migrations.AddConstraint(model_name="trackingevent", constraint=NEW_UNIQUE),
    ]

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            partition_events_table(schema_editor)
            return
        state = from_state.clone()
        for operation in self.sqlite_operations:
            new = state.clone()
            operation.state_forwards(app_label, new)
            operation.database_forwards(app_label, schema_editor, state, new)
            state = new

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            unpartition_events_table(schema_editor)
            return
        states = [to_state.clone()]
        for operation in self.sqlite_operations:
            new = states[-1].clone()
            operation.state_forwards(app_label, new)
            states.append(new)
        for operation, (before, after) in reversed(list(zip(self.sqlite_operations, zip(states, states[1:])))):
            operation.database_backwards(app_label, schema_editor, after, before)

    def describe(self):
        return "Partition waybills_trackingevent by range of occurred_at (PostgreSQL)"


class Migration(migrations.Migration):

    dependencies = [
        ("waybills", "0006_waybill_promise_due"),
        ("claims", "0013_merchant_answer_photos"),  # claims_claim.source_event_id's constraint is dropped here
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="trackingevent", name=OLD_UNIQUE.name),
                migrations.AddConstraint(model_name="trackingevent", constraint=NEW_UNIQUE),
                migrations.AlterField(
                    model_name="deliveryconsent",
                    name="tracking_event",
                    field=models.OneToOneField(
                        blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                        related_name="consent", to="waybills.trackingevent",
                    ),
                ),
            ],
            database_operations=[PartitionEventsTable()],
        ),
    ]
