"""What buying the Yinzunda tier for a selection would do: fee per order, total, quota effect."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from carriers.selectors import tariff_current

from ..models import Merchant, Order
from ..services import QuotaStatus, merchant_quota, purchase_refusal_reason


@dataclass(frozen=True)
class PreviewLine:
    order_id: int
    order_number: str
    carrier: str = ""
    fee: Decimal | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass
class PurchasePreview:
    quota: QuotaStatus
    lines: list[PreviewLine] = field(default_factory=list)

    @property
    def buyable(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.ok]

    @property
    def refused(self) -> list[PreviewLine]:
        return [line for line in self.lines if not line.ok]

    @property
    def total(self) -> Decimal:
        return sum((line.fee for line in self.buyable), Decimal("0.00"))

    @property
    def used_after(self) -> int:
        return self.quota.used_today + len(self.buyable)

    @property
    def over_quota(self) -> bool:
        return self.used_after > self.quota.allowed_per_day


def _over_quota_reason(quota: QuotaStatus) -> str:
    return _("超出今日配额（%(n)d 单），将被拒绝") % {"n": quota.allowed_per_day}


def purchase_preview(*, merchant: Merchant, order_ids: list[int], now: datetime | None = None) -> PurchasePreview:
    """The fee of each order of the selection, or why it cannot be bought; nothing is written."""
    now = now or timezone.now()
    quota = merchant_quota(merchant=merchant, now=now)
    orders = {
        o.pk: o
        for o in Order.objects.filter(merchant=merchant, pk__in=order_ids)
        .select_related("waybill__carrier")
        .prefetch_related("purchases")
    }
    preview = PurchasePreview(quota=quota)
    tariffs: dict[int, object] = {}
    room = quota.remaining if quota.mode == Merchant.QuotaMode.ENFORCE else None
    for order_id in dict.fromkeys(order_ids):
        order = orders.get(order_id)
        if order is None:
            preview.lines.append(PreviewLine(order_id=order_id, order_number="", reason=_("订单不存在")))
            continue
        waybill = getattr(order, "waybill", None)
        carrier = waybill.carrier.name if waybill else ""
        reason = purchase_refusal_reason(order=order, waybill=waybill)
        if reason is None:
            if waybill.carrier_id not in tariffs:
                tariffs[waybill.carrier_id] = tariff_current(carrier=waybill.carrier, at=now)
            tariff = tariffs[waybill.carrier_id]
            if tariff is None:
                reason = _("该快递暂无有效资费")
            elif room is not None and room <= 0:
                reason = _over_quota_reason(quota)
            else:
                if room is not None:
                    room -= 1
                preview.lines.append(
                    PreviewLine(order_id=order.pk, order_number=order.order_number, carrier=carrier, fee=tariff.fee_per_order)
                )
                continue
        preview.lines.append(PreviewLine(order_id=order.pk, order_number=order.order_number, carrier=carrier, reason=reason))
    return preview


def purchase_offer(*, order: Order, waybill, now: datetime | None = None) -> PreviewLine:
    """The order page's offer: the fee if the tier can be bought for this order, else why not.
    (The quota is checked on the confirmation step, where the whole selection is known.)"""
    reason = purchase_refusal_reason(order=order, waybill=waybill)
    if reason is not None:
        return PreviewLine(order_id=order.pk, order_number=order.order_number, reason=reason)
    tariff = tariff_current(carrier=waybill.carrier, at=now or timezone.now())
    if tariff is None:
        return PreviewLine(order_id=order.pk, order_number=order.order_number, reason=_("该快递暂无有效资费"))
    return PreviewLine(
        order_id=order.pk, order_number=order.order_number, carrier=waybill.carrier.name, fee=tariff.fee_per_order
    )
