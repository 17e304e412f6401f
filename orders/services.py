"""Writes on merchants' orders: buying and cancelling the Yinzunda tier, the ledger."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carriers.selectors import tariff_current
from waybills.models import FINISHED_STATUSES, Waybill
from waybills.services.service_flags import waybill_service_add, waybill_service_remove
from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.errors import NotFound
from yinzunda.money import CENT, money

from .errors import PurchaseRefused
from .models import LedgerEntry, Merchant, Order, YinzundaPurchase
from .selectors.rollups import orders_since

# Parcels past delivery or on their way back: too late to buy the tier.
NOT_BUYABLE_STATUSES = FINISHED_STATUSES

# The one purchase-eligibility rule (DESIGN §3.2), as conditions on the order's waybill: a field
# lookup, the value it must have, and the refusal when it has not. `purchase_refusal_reason`
# tests one waybill with them; `buyable_waybill_q` is the same rule as a filter (the order list's
# "eligible" view).
BUYABLE_CONDITIONS: tuple[tuple[str, object, str], ...] = (
    ("is_platform_issued", True, gettext_noop("未使用平台电子面单")),
    ("carrier__is_partner", True, gettext_noop("%(carrier)s 不是音尊达合作快递")),
    ("delivered_at__isnull", True, gettext_noop("包裹已签收或已退回")),
    ("status__in", NOT_BUYABLE_STATUSES, gettext_noop("包裹已签收或已退回")),  # must NOT be in
)


def _lookup_holds(waybill: Waybill, lookup: str, expected: object) -> bool:
    *path, last = lookup.split("__")
    value = waybill
    for name in path:
        value = getattr(value, name)
    if last == "isnull":
        return (value is None) == expected
    if last == "in":
        return value not in expected
    return getattr(value, last) == expected


def buyable_waybill_q(prefix: str = "") -> Q:
    """The eligibility rule as a filter on waybills (or, with `prefix="waybill__"`, on orders)."""
    q = Q()
    for lookup, expected, _reason in BUYABLE_CONDITIONS:
        condition = Q(**{prefix + lookup: expected})
        q &= ~condition if lookup.endswith("__in") else condition
    return q


def ledger_record(
    *,
    merchant: Merchant,
    kind: str,
    amount: Decimal,
    memo: str = "",
    purchase: YinzundaPurchase | None = None,
    claim=None,
    settlement=None,
    reverses: LedgerEntry | None = None,
    now=None,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        merchant=merchant,
        kind=kind,
        amount=money(amount),
        memo=memo[:255],
        purchase=purchase,
        claim=claim,
        settlement=settlement,
        reverses=reverses,
        created_at=now or timezone.now(),
    )


def ledger_reverse(*, entry: LedgerEntry, memo: str) -> LedgerEntry:
    """Corrections are reversing entries: the ledger is never updated."""
    return ledger_record(
        merchant=entry.merchant, kind=LedgerEntry.Kind.REVERSAL, amount=-entry.amount, memo=memo, reverses=entry
    )


@dataclass(frozen=True)
class QuotaStatus:
    daily_average: Decimal
    allowed_per_day: int
    used_today: int
    mode: str

    @property
    def remaining(self) -> int:
        return max(0, self.allowed_per_day - self.used_today)


def merchant_quota(*, merchant: Merchant, now=None) -> QuotaStatus:
    """The recommended share (quota_percent) of the trailing 30-day daily order average.

    The 30-day count comes from the daily rollup (orders.MerchantDay) and at most one partial
    day of rows; today's purchases are an index range of today only."""
    now = now or timezone.now()
    since = now - timedelta(days=30)
    orders_30d = orders_since(merchant=merchant, since=since)
    daily_average = (Decimal(orders_30d) / Decimal(30)).quantize(CENT)
    allowed = int((daily_average * merchant.quota_percent / Decimal(100)).to_integral_value(rounding=ROUND_HALF_UP))
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    used_today = YinzundaPurchase.objects.filter(
        merchant=merchant, status=YinzundaPurchase.Status.ACTIVE, purchased_at__gte=start_of_day
    ).count()
    return QuotaStatus(daily_average=daily_average, allowed_per_day=max(allowed, 1), used_today=used_today, mode=merchant.quota_mode)


def purchase_refusal_reason(*, order: Order, waybill: Waybill | None) -> str | None:
    """Why this order cannot get the tier now, or None. One place for the rule (DESIGN §3.2)."""
    if waybill is None:
        return _("订单尚未发货，没有电子面单")
    for lookup, expected, reason in BUYABLE_CONDITIONS:
        if not _lookup_holds(waybill, lookup, expected):
            return _(reason) % {"carrier": waybill.carrier.name} if "%(carrier)s" in reason else _(reason)
    if any(p.status == YinzundaPurchase.Status.ACTIVE for p in order.purchases.all()):
        return _("已购买音尊达")
    return None


@transaction.atomic
def purchase_create(*, merchant: Merchant, order_id: int, user=None, now=None) -> YinzundaPurchase:
    """Buy the tier for one order of this merchant; charges the fee to the merchant's ledger."""
    now = now or timezone.now()
    # Lock the merchant row: purchases of one merchant are serialised, so the quota holds.
    Merchant.objects.select_for_update().get(pk=merchant.pk)
    try:
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("waybill__carrier")
            .prefetch_related("purchases")
            .get(pk=order_id, merchant=merchant)
        )
    except Order.DoesNotExist:
        raise NotFound(_("订单不存在")) from None
    waybill = getattr(order, "waybill", None)
    reason = purchase_refusal_reason(order=order, waybill=waybill)
    if reason:
        raise PurchaseRefused(reason, field="order")
    if merchant.quota_mode == Merchant.QuotaMode.ENFORCE:
        quota = merchant_quota(merchant=merchant, now=now)
        if quota.remaining <= 0:
            raise PurchaseRefused(
                _("已达今日配额（%(n)d 单）") % {"n": quota.allowed_per_day}, field="quota"
            )
    tariff = tariff_current(carrier=waybill.carrier, at=now)
    if tariff is None:
        raise PurchaseRefused(_("该快递暂无有效资费"), field="order")
    purchase = YinzundaPurchase.objects.create(
        order=order, merchant=merchant, tariff=tariff, fee=money(tariff.fee_per_order), purchased_at=now, purchased_by=user
    )
    # The carrier is told the moment the flag changes (webhook waybill.service_added).
    waybill_service_add(waybill=waybill, code=settings.YINZUNDA_SERVICE_CODE, now=now)
    if not waybill.is_before_pickup():
        # Bought in transit: the promise watcher starts the parcel's clocks (DESIGN §3a).
        task_enqueue_on_commit("claims.tasks.promises_watch", [waybill.pk])
    ledger_record(
        merchant=merchant, kind=LedgerEntry.Kind.FEE, amount=-purchase.fee, purchase=purchase,
        memo=_("音尊达服务费 %(order)s") % {"order": order.order_number}, now=now,
    )
    return purchase


@transaction.atomic
def purchase_cancel(*, merchant: Merchant, purchase_id: int, now=None) -> YinzundaPurchase:
    """Cancel before pickup: the fee is refunded."""
    now = now or timezone.now()
    # The merchant row first, as purchase_create does: both then lock the carrier's webhook
    # sequence, and a cancel that took the merchant's key-share lock only at commit deadlocked
    # with a purchase of the same merchant and carrier holding the merchant row.
    list(Merchant.objects.select_for_update().filter(pk=merchant.pk).values_list("pk", flat=True))
    try:
        purchase = (
            YinzundaPurchase.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=purchase_id, merchant=merchant)
        )
    except YinzundaPurchase.DoesNotExist:
        raise NotFound(_("购买记录不存在")) from None
    if purchase.status != YinzundaPurchase.Status.ACTIVE:
        raise PurchaseRefused(_("该购买已取消"), field="purchase")
    # The order's lock serialises this with purchases and shipping of the same order, so the
    # service flags are read and written by one transaction at a time.
    list(Order.objects.select_for_update().filter(pk=purchase.order_id).values_list("pk", flat=True))
    waybill = Waybill.objects.select_related("carrier").get(order_id=purchase.order_id)
    if not waybill.is_before_pickup():
        raise PurchaseRefused(_("包裹已揽收，不能取消"), field="purchase")
    purchase.status = YinzundaPurchase.Status.CANCELLED
    purchase.cancelled_at = now
    purchase.save(update_fields=["status", "cancelled_at"])
    waybill_service_remove(waybill=waybill, code=settings.YINZUNDA_SERVICE_CODE, now=now)
    ledger_record(
        merchant=merchant, kind=LedgerEntry.Kind.FEE_REFUND, amount=purchase.fee, purchase=purchase,
        memo=_("取消音尊达退款 %(order)s") % {"order": purchase.order.order_number}, now=now,
    )
    return purchase


@dataclass(frozen=True)
class PurchaseResult:
    order_id: int
    order_number: str
    purchase: YinzundaPurchase | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.purchase is not None


def purchase_create_many(
    *, merchant: Merchant, order_ids: list[int], user=None, now=None
) -> tuple[list[PurchaseResult], QuotaStatus]:
    """Buy the tier for a selection: each order is bought or refused on its own, with the reason.

    Each purchase is its own transaction, so one refusal never undoes the others, and the
    merchant lock inside `purchase_create` keeps the enforced quota exact.
    """
    numbers = dict(Order.objects.filter(merchant=merchant, pk__in=order_ids).values_list("pk", "order_number"))
    results: list[PurchaseResult] = []
    for order_id in dict.fromkeys(order_ids):  # keep the order of the selection, drop repeats
        number = numbers.get(order_id)
        if number is None:
            results.append(PurchaseResult(order_id=order_id, order_number="", reason=_("订单不存在")))
            continue
        try:
            purchase = purchase_create(merchant=merchant, order_id=order_id, user=user, now=now)
        except (PurchaseRefused, NotFound) as exc:
            results.append(PurchaseResult(order_id=order_id, order_number=number, reason=exc.message))
        else:
            results.append(PurchaseResult(order_id=order_id, order_number=number, purchase=purchase))
    return results, merchant_quota(merchant=merchant, now=now)


def merchant_settings_update(*, merchant: Merchant, email_digest: bool, email_language: str) -> Merchant:
    """The merchant's own preferences: one daily digest e-mail instead of one per event, and the
    language the e-mails are written in."""
    merchant.email_digest = email_digest
    merchant.email_language = email_language
    merchant.save(update_fields=["email_digest", "email_language"])
    return merchant
