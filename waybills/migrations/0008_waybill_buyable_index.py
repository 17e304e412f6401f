"""A partial index of the parcels the tier can still be bought for (the order list's "eligible"
filter); on PostgreSQL built concurrently, so a large waybills table keeps taking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain index elsewhere (the SQLite first run)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('waybills', '0007_trackingevent_partitioned'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='waybill',
            index=models.Index(condition=models.Q(('delivered_at__isnull', True), ('is_platform_issued', True), models.Q(('status__in', ('delivered', 'returned', 'return_scheduled', 'return_picked_up')), _negated=True)), fields=['order'], name='waybill_buyable'),
        ),
    ]
