"""The events table's two foreign keys stop being database constraints (issue 15 item 3).

Their per-row triggers re-read the waybill each scan names (already locked by the batch) and the
carrier that authenticated it: at 20-50 M stored rows 3-11 ms of a 20-35 ms 1,000-row insert
(docs/PERFORMANCE.md). Ingest keeps the invariant (only the carrier's own waybills, held locked;
voiding takes the same lock and refuses a waybill with scans) and the ORM keeps PROTECT and
CASCADE. Dropping a constraint of the partitioned parent drops its partitions' copies; reversing
adds them back (and checks every stored row)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("carriers", "0007_tariff_promise_clocks"),
        ("waybills", "0008_waybill_buyable_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trackingevent",
            name="carrier",
            field=models.ForeignKey(
                db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="tracking_events", to="carriers.carrier",
            ),
        ),
        migrations.AlterField(
            model_name="trackingevent",
            name="waybill",
            field=models.ForeignKey(
                db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                related_name="events", to="waybills.waybill",
            ),
        ),
    ]
