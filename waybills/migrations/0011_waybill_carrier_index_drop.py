"""The waybills' index on carrier_id alone goes: (carrier_id, status) and (carrier_id, updated_at,
id) start with it and serve every lookup by carrier and the PROTECT check, while every scan batch
rewrites hundreds of waybill rows, each with all its indexes (issue 15 item 3)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("carriers", "0007_tariff_promise_clocks"),
        ("waybills", "0010_hot_tables_autovacuum"),
    ]

    operations = [
        migrations.AlterField(
            model_name="waybill",
            name="carrier",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="waybills",
                to="carriers.carrier",
            ),
        ),
    ]
