"""The merchant's per-carrier daily rollup (the overview's table), kept by statement triggers on
orders, waybills, complaints, claims and the ledger, and backfilled from the rows already there."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

from yinzunda.rollups import Rollup, Source, utc_day

# ruff: noqa: S608 - constant SQL of this migration, never input

STATUSES = ("open", "accepted", "auto_accepted", "disputed", "upheld", "dismissed", "settled")
ZEROS = lambda n: ", ".join(["0"] * n)  # noqa: E731

# (merchant, carrier, day, shipped, delivered, door, complaints, claims_<status> x 7, paid)
ROLLUP = Rollup(
    name="claims_mcd",
    table="claims_merchantcarrierday",
    keys=("merchant_id", "carrier_id", "day"),
    sums=("shipped", "delivered", "door", "complaints", *(f"claims_{s}" for s in STATUSES), "paid"),
    facts=(
        # A waybill counts for its order's merchant and placing day.
        f"SELECT o.merchant_id, w.carrier_id, {utc_day('o.created_at')}, {{sign}}, "
        "CASE WHEN w.delivered_at IS NOT NULL THEN {sign} ELSE 0 END, "
        "CASE WHEN w.delivered_at IS NOT NULL AND w.delivery_method = 'door' THEN {sign} ELSE 0 END, "
        f"{ZEROS(9)} FROM {{waybills}} w JOIN {{orders}} o ON o.id = w.order_id",
        # A complaint with a waybill: the waybill's carrier, its order's merchant and day.
        f"SELECT o.merchant_id, w.carrier_id, {utc_day('o.created_at')}, 0, 0, 0, {{sign}}, {ZEROS(8)} "
        "FROM {complaints} c JOIN {waybills} w ON w.id = c.waybill_id JOIN {orders} o ON o.id = c.order_id",
        # A claim by the day it was opened, in the column of its status.
        f"SELECT cl.merchant_id, cl.carrier_id, {utc_day('cl.opened_at')}, 0, 0, 0, 0, "
        + ", ".join(f"CASE WHEN cl.status = '{s}' THEN {{sign}} ELSE 0 END" for s in STATUSES)
        + ", 0 FROM {claims} cl",
        # Compensation by the day it was credited, under the claim's carrier.
        f"SELECT e.merchant_id, cl.carrier_id, {utc_day('e.created_at')}, {ZEROS(11)}, {{sign}} * e.amount "
        "FROM {ledger} e JOIN {claims} cl ON cl.id = e.claim_id WHERE e.kind = 'compensation'",
    ),
    sources={
        "orders": Source("orders_order", watched=("{t}.merchant_id", "{t}.created_at")),
        "waybills": Source(
            "waybills_waybill",
            watched=("{t}.order_id", "{t}.carrier_id", "{t}.delivered_at IS NULL", "{t}.delivery_method"),
        ),
        "complaints": Source("claims_complaint", watched=("{t}.order_id", "{t}.waybill_id")),
        "claims": Source("claims_claim", watched=("{t}.merchant_id", "{t}.carrier_id", "{t}.opened_at", "{t}.status")),
        # The ledger refuses UPDATE and DELETE (orders migration 0002): only inserts change it.
        "ledger": Source("orders_ledgerentry", ops=("INSERT",)),
    },
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROLLUP.create_sql())
        schema_editor.execute(ROLLUP.backfill_sql())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROLLUP.drop_sql())


class Migration(migrations.Migration):

    dependencies = [
        ('carriers', '0007_tariff_promise_clocks'),
        ('claims', '0014_reasons_as_messages'),
        ('orders', '0007_merchant_day_rollup'),
    ]

    operations = [
        migrations.CreateModel(
            name='MerchantCarrierDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='日期（UTC）')),
                ('shipped', models.IntegerField(default=0)),
                ('delivered', models.IntegerField(default=0)),
                ('door', models.IntegerField(default=0)),
                ('complaints', models.IntegerField(default=0)),
                ('claims_open', models.IntegerField(default=0)),
                ('claims_accepted', models.IntegerField(default=0)),
                ('claims_auto_accepted', models.IntegerField(default=0)),
                ('claims_disputed', models.IntegerField(default=0)),
                ('claims_upheld', models.IntegerField(default=0)),
                ('claims_dismissed', models.IntegerField(default=0)),
                ('claims_settled', models.IntegerField(default=0)),
                ('paid', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14)),
                ('carrier', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='carriers.carrier')),
                ('merchant', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orders.merchant')),
            ],
            options={
                'verbose_name': '商家快递日汇总',
                'verbose_name_plural': '商家快递日汇总',
                'indexes': [models.Index(fields=['merchant', 'day', 'carrier'], name='merchant_carrier_day')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
