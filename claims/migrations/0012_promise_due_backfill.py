"""Each parcel in flight gets its next promise moment (Waybill.promise_due_at), so the first
sweep after this migration judges exactly the parcels whose clocks have run out."""
from django.db import migrations


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # elsewhere the sweep reads every parcel in flight
    from claims.services.promise_due import promises_due_refresh

    # Counted from each parcel's last scan: a clock already due is judged by the first sweep.
    promises_due_refresh(waybill_ids=None, now=None)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0011_claim_promise"),
        ("waybills", "0006_waybill_promise_due"),
        ("carriers", "0007_tariff_promise_clocks"),
        ("orders", "0006_order_cancelled_at"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
