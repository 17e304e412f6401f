"""A merchant's per-carrier figures of one UTC day: the overview's rollup, kept by PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class MerchantCarrierDay(models.Model):
    """What the overview's per-carrier table counts, for one merchant, carrier and UTC day.

    Each figure is dated like the full query it replaces (claims.selectors.stats.carrier_stats):
    shipped, delivered, door and complaints by the day the *order* was placed; claims by the day
    they were opened (one column per status); `paid` by the day compensation was credited.
    Statement triggers on orders, waybills, complaints, claims and the ledger (migration 0014,
    yinzunda.rollups) append delta rows in the same transaction as the write, so the SUM over a
    key's rows is exact at every commit; Python never writes it, except
    claims.tasks.rollups_compact folding each key's rows into one. No foreign-key constraints:
    derived rows never lock a merchant or carrier row.
    """

    merchant = models.ForeignKey(
        "orders.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    carrier = models.ForeignKey(
        "carriers.Carrier", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField(_("日期（UTC）"))
    shipped = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    door = models.IntegerField(default=0)
    complaints = models.IntegerField(default=0)
    claims_open = models.IntegerField(default=0)
    claims_accepted = models.IntegerField(default=0)
    claims_auto_accepted = models.IntegerField(default=0)
    claims_disputed = models.IntegerField(default=0)
    claims_upheld = models.IntegerField(default=0)
    claims_dismissed = models.IntegerField(default=0)
    claims_settled = models.IntegerField(default=0)
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("商家快递日汇总")
        verbose_name_plural = _("商家快递日汇总")
        indexes = [models.Index(fields=["merchant", "day", "carrier"], name="merchant_carrier_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id}/{self.carrier_id} {self.day}"
