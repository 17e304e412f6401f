"""Shipping a merchant's orders on platform e-waybills: issue for a selection, void before pickup, labels printed."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from carriers.models import Carrier
from carriers.selectors import tariff_current
from waybills.models import TrackingEvent, VoidedWaybill, Waybill
from waybills.services.issue import IssueRequest, waybills_issue
from waybills.services.service_flags import waybill_service_add
from yinzunda.errors import NotFound

from .errors import ShipmentRefused
from .models import Merchant, Order, YinzundaPurchase

# The dashboard takes up to 200 at a time; services take any selection (the benchmark ships 10,000).
LOCK_CHUNK = 5000


@dataclass(frozen=True)
class ShipResult:
    order_id: int
    order_number: str
    waybill: Waybill | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.waybill is not None


def sandbox_merchant_code(carrier: Carrier) -> str:
    """The test merchant of a sandbox carrier: the only one that ships with it."""
    return f"sandbox-{carrier.code.lower()}"[:32]


def carrier_refusal_reason(carrier: Carrier | None, *, merchant: Merchant | None = None) -> str | None:
    if carrier is None:
        return _("快递不存在")
    if not carrier.is_active:
        return _("%(carrier)s 已停用，不能发货") % {"carrier": carrier.name}
    if carrier.is_sandbox and (merchant is None or merchant.code != sandbox_merchant_code(carrier)):
        # Real orders never reach a sandbox: its waybills are test data, and no money moves there.
        return _("%(carrier)s 是联调沙箱，不能为真实订单发货") % {"carrier": carrier.name}
    return None


def shipment_refusal_reason(*, order: Order, waybill: Waybill | None) -> str | None:
    """Why this order cannot ship now, or None. One place for the rule."""
    if order.cancelled_at is not None:
        return _("订单已取消")
    if waybill is not None:
        return _("订单已发货（面单号 %(number)s）") % {"number": waybill.number}
    return None


@transaction.atomic
def shipments_create(
    *, merchant: Merchant, order_ids: list[int], carrier_id: int, now: datetime | None = None
) -> list[ShipResult]:
    """Issue one platform waybill per order of the selection, each refused order with its reason.

    Safe under concurrency and idempotent per order: the orders' rows are locked (in pk order,
    so two selections never deadlock) before their waybills are read, so a double click or a
    second tab waits for the first and then finds the order shipped; the one-waybill-per-order
    constraint is the last guard.
    """
    now = now or timezone.now()
    carrier = Carrier.objects.filter(pk=carrier_id).first()
    wanted = list(dict.fromkeys(order_ids))  # the selection's order, repeats dropped
    locked: dict[int, Order] = {}
    for start in range(0, len(wanted), LOCK_CHUNK):
        chunk = sorted(wanted[start:start + LOCK_CHUNK])
        locked.update(
            (o.pk, o) for o in Order.objects.select_for_update().filter(merchant=merchant, pk__in=chunk).order_by("pk")
        )
    existing = {w.order_id: w for w in Waybill.objects.filter(order_id__in=list(locked)).only("number", "order_id")}
    carrier_reason = carrier_refusal_reason(carrier, merchant=merchant)
    results: list[ShipResult] = []
    to_issue: list[Order] = []
    for order_id in wanted:
        order = locked.get(order_id)
        if order is None:
            results.append(ShipResult(order_id, "", reason=_("订单不存在")))
            continue
        reason = shipment_refusal_reason(order=order, waybill=existing.get(order_id)) or carrier_reason
        if reason:
            results.append(ShipResult(order_id, order.order_number, reason=reason))
        else:
            to_issue.append(order)
            results.append(ShipResult(order_id, order.order_number))
    if not to_issue:
        return results
    issued = waybills_issue(
        carrier=carrier, requests=[IssueRequest(o.pk, o.recipient_address) for o in to_issue], now=now
    )
    by_order = {w.order_id: w for w in issued}
    return [
        ShipResult(r.order_id, r.order_number, waybill=by_order[r.order_id]) if r.order_id in by_order else r
        for r in results
    ]


@transaction.atomic
def shipment_void(*, merchant: Merchant, order_id: int, user=None, now: datetime | None = None) -> VoidedWaybill:
    """Void the order's waybill before pickup: the number is kept as voided, never reused."""
    now = now or timezone.now()
    order = Order.objects.select_for_update().filter(merchant=merchant, pk=order_id).first()
    if order is None:
        raise NotFound(_("订单不存在"))
    # The waybill's lock too: a scan being stored now either lands first (and voiding is
    # refused) or finds the number gone.
    waybill = Waybill.objects.select_for_update().filter(order=order).first()
    if waybill is None:
        raise ShipmentRefused(_("订单尚未发货"), field="order")
    if waybill.status != Waybill.Status.CREATED or TrackingEvent.objects.of_waybill(waybill).exists():
        raise ShipmentRefused(_("包裹已揽收，面单不能作废"), field="order")
    if YinzundaPurchase.objects.filter(order=order, status=YinzundaPurchase.Status.ACTIVE).exists():
        raise ShipmentRefused(_("请先取消音尊达（退款）再作废面单"), field="order")
    voided = VoidedWaybill.objects.create(
        number=waybill.number, carrier_id=waybill.carrier_id, order=order, issued_at=waybill.created_at,
        voided_at=now, voided_by=user,
    )
    try:
        with transaction.atomic():
            waybill.delete()
    except ProtectedError:
        raise ShipmentRefused(_("该面单已有投诉或索赔，不能作废"), field="order") from None
    return voided


def labels_mark_printed(*, merchant: Merchant, waybill_ids: list[int], now: datetime | None = None) -> int:
    """Record that these labels were printed, with the services they showed (for the reprint warning)."""
    now = now or timezone.now()
    return Waybill.objects.filter(order__merchant=merchant, pk__in=waybill_ids).update(
        label_printed_at=now, label_service_codes=F("service_codes")
    )


SANDBOX_MAX_WAYBILLS = 50


@transaction.atomic
def sandbox_waybills_create(*, carrier: Carrier, count: int, with_tier: bool, now: datetime | None = None) -> list[Waybill]:
    """Test waybills of a sandbox carrier, with or without the tier, for a test merchant of its own.

    No money moves: the tier is recorded as a purchase with a zero fee and no ledger entry,
    only so that claims find their tariff as they would for a real parcel.
    """
    if not carrier.is_sandbox:
        raise NotFound(_("仅测试令牌可用"))
    now = now or timezone.now()
    code = sandbox_merchant_code(carrier)
    merchant = Merchant.objects.filter(code=code).first()
    if merchant is None:
        merchant = Merchant(code=code, name=_("沙箱商家（%(carrier)s）") % {"carrier": carrier.name})
        merchant.skip_history_when_saving = True  # made by a carrier's API call: no staff user to record
        merchant.save()
    orders = Order.objects.bulk_create([
        Order(merchant=merchant, order_number=f"SBX{uuid.uuid4().hex[:20].upper()}", recipient_name="测试买家",
              recipient_phone="13800000000", recipient_address="浙江省杭州市西湖区文三路 100 号", amount=Decimal("0.00"),
              created_at=now)
        for _ in range(count)
    ])
    results = shipments_create(merchant=merchant, order_ids=[o.pk for o in orders], carrier_id=carrier.pk, now=now)
    waybills = [r.waybill for r in results if r.ok]
    if with_tier:
        tariff = tariff_current(carrier=carrier, at=now)
        for waybill in waybills:
            YinzundaPurchase.objects.create(
                order_id=waybill.order_id, merchant=merchant, tariff=tariff, fee=Decimal("0.00"), purchased_at=now
            )
            waybill_service_add(waybill=waybill, code=settings.YINZUNDA_SERVICE_CODE, now=now)
    return waybills
