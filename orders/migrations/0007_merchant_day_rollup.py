"""The merchant's daily rollup (orders placed, ledger totals by kind), kept by statement
triggers on orders and the ledger, and backfilled from the rows already there."""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models

from yinzunda.rollups import Rollup, Source, utc_day

# ruff: noqa: S608 - constant SQL of this migration, never input

ROLLUP = Rollup(
    name="orders_merchantday",
    table="orders_merchantday",
    keys=("merchant_id", "day"),
    sums=("orders", "fee", "fee_refund", "compensation", "reversal"),
    facts=(
        f"SELECT o.merchant_id, {utc_day('o.created_at')}, {{sign}}, 0, 0, 0, 0 FROM {{orders}} o",
        f"SELECT e.merchant_id, {utc_day('e.created_at')}, 0, "
        + ", ".join(
            f"CASE WHEN e.kind = '{kind}' THEN {{sign}} * e.amount ELSE 0 END"
            for kind in ("fee", "fee_refund", "compensation", "reversal")
        )
        + " FROM {ledger} e",
    ),
    sources={
        "orders": Source("orders_order", watched=("{t}.merchant_id", "{t}.created_at")),
        # The ledger refuses UPDATE and DELETE (migration 0002): only inserts change it.
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
        ('orders', '0006_order_cancelled_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='MerchantDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='日期（UTC）')),
                ('orders', models.IntegerField(default=0, verbose_name='订单')),
                ('fee', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, verbose_name='服务费')),
                ('fee_refund', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, verbose_name='服务费退款')),
                ('compensation', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, verbose_name='快递赔付')),
                ('reversal', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, verbose_name='冲正')),
                ('merchant', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orders.merchant')),
            ],
            options={
                'verbose_name': '商家日汇总',
                'verbose_name_plural': '商家日汇总',
                'indexes': [models.Index(fields=['merchant', 'day'], name='merchant_day')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
