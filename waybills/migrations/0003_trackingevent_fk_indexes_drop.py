"""Drop the two single-column foreign-key indexes of the tracking events: each is a prefix of a
composite index that stays ((carrier_id, event_id) unique, (waybill_id, occurred_at)), so they
served no query and cost every insert (issue 15, docs/PERFORMANCE.md)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("waybills", "0002_trackingevent_late"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trackingevent",
            name="carrier",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="tracking_events",
                to="carriers.carrier",
            ),
        ),
        migrations.AlterField(
            model_name="trackingevent",
            name="waybill",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="events",
                to="waybills.waybill",
            ),
        ),
    ]
