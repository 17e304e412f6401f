"""Claim.source_event keeps no database constraint: waybills_trackingevent is partitioned by
occurred_at (waybills 0007 dropped the constraint), so no unique key on id alone exists."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0015_merchant_carrier_day_rollup"),
        ("waybills", "0007_trackingevent_partitioned"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="claim",
                    name="source_event",
                    field=models.OneToOneField(
                        blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="claim", to="waybills.trackingevent",
                    ),
                ),
            ],
        ),
    ]
