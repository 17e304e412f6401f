"""Folding the dashboard rollups' delta rows (orders.MerchantDay, claims.MerchantCarrierDay)."""
from __future__ import annotations

from django.db import connection, models, transaction

from orders.models import MerchantDay
from yinzunda.rollups import compact_sql

from ..models import MerchantCarrierDay

ROLLUPS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (MerchantDay, ("merchant_id", "day")),
    (MerchantCarrierDay, ("merchant_id", "carrier_id", "day")),
)
# Compactions of two workers at once would only redo each other's work: one runs, one skips.
COMPACT_LOCK = 7_140_001


def rollups_compact() -> int:
    """Fold each key's delta rows into one row; returns the rows removed. The sums never change
    (one statement per rollup: readers see the deltas or their fold, never both)."""
    if connection.vendor != "postgresql":
        return 0
    removed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COMPACT_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        for model, keys in ROLLUPS:
            table = model._meta.db_table
            sums = tuple(
                f.column for f in model._meta.concrete_fields if not f.primary_key and f.column not in keys
            )
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a model's table
            before = cursor.fetchone()[0]
            cursor.execute(compact_sql(table=table, keys=keys, sums=sums))
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a model's table
            removed += before - cursor.fetchone()[0]
    return removed
