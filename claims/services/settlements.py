"""Settlements: gather a carrier's payable claims into a statement; the carrier confirms payment."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carriers.models import Carrier
from carriers.services import webhook_enqueue
from orders.models import LedgerEntry
from orders.services import ledger_record
from yinzunda.errors import NotFound
from yinzunda.money import money
from yinzunda.texts import message

from ..errors import PaymentAmountMismatch, SettlementAlreadyPaid
from ..models import Claim, Settlement
from ..selectors.claims import claims_to_settle
from ..selectors.webhook_payloads import settlement_webhook_payload
from .claims import Actor, _claim_transition
from .notifications import notification_create


@transaction.atomic
def settlement_issue(*, carrier: Carrier, period_end: datetime, now: datetime | None = None) -> Settlement | None:
    """Gather the carrier's payable claims resolved before period_end into one statement."""
    now = now or timezone.now()
    claims = list(
        claims_to_settle(period_end=period_end).select_for_update().filter(carrier=carrier).order_by("pk")
    )
    if not claims:
        return None
    previous = Settlement.objects.filter(carrier=carrier).order_by("-period_end").first()
    period_start = previous.period_end if previous else min(c.resolved_at for c in claims)
    if period_start >= period_end:
        period_start = period_end - timedelta(days=1)
    total = money(sum((c.amount for c in claims), Decimal("0")))
    local_end = timezone.localtime(period_end)
    settlement = Settlement.objects.create(
        carrier=carrier,
        reference=f"ST{carrier.code}{local_end:%Y%m%d%H%M}{uuid.uuid4().hex[:4].upper()}",
        period_start=period_start,
        period_end=period_end,
        claim_count=len(claims),
        total_amount=total,
        issued_at=now,
        updated_at=now,
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(settlement=settlement, updated_at=now)
    webhook_enqueue(
        carrier=carrier,
        event_type="settlement.issued",
        payload=settlement_webhook_payload(settlement, claim_ids=[c.pk for c in claims]),
    )
    return settlement


@transaction.atomic
def settlement_confirm_payment(
    *, settlement_id: int, carrier: Carrier, payment_reference: str, amount: Decimal | None = None,
    now: datetime | None = None,
) -> Settlement:
    """The carrier paid: every claim of the statement is settled and each merchant credited once.

    `amount`, when the carrier states what it paid, must be the statement's total."""
    try:
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id, carrier=carrier)
    except Settlement.DoesNotExist:
        raise NotFound(_("结算单不存在")) from None
    if amount is not None and amount != settlement.total_amount:
        raise PaymentAmountMismatch(
            _("付款金额 %(a)s 与结算单应付总额 %(t)s 不符。") % {"a": amount, "t": settlement.total_amount},
            field="amount",
        )
    if settlement.status == Settlement.Status.PAID:
        raise SettlementAlreadyPaid(
            _("结算单已于 %(at)s 确认付款（流水号 %(ref)s）")
            % {"at": timezone.localtime(settlement.paid_at).strftime("%Y-%m-%d %H:%M"), "ref": settlement.payment_reference}
        )
    now = now or timezone.now()
    # The merchant comes with the claims (its ledger entry needs it), but only claims are locked.
    claims = list(
        Claim.objects.select_for_update(of=("self",)).select_related("merchant").filter(settlement=settlement).order_by("pk")
    )
    for claim in claims:
        _claim_transition(
            claim_id=claim.pk, to_status=Claim.Status.SETTLED, actor=Actor.CARRIER, carrier=carrier,
            reason_msg=message(gettext_noop("结算单 %(ref)s 付款 %(pay)s"), ref=settlement.reference, pay=payment_reference),
            now=now,
        )
        if carrier.is_sandbox:
            continue  # the sandbox: the claim is settled, no money moves
        ledger_record(
            merchant=claim.merchant, kind=LedgerEntry.Kind.COMPENSATION, amount=claim.amount, claim=claim,
            settlement=settlement, memo=_("索赔 #%(id)s 赔付（%(carrier)s）") % {"id": claim.pk, "carrier": carrier.name},
            now=now,
        )
    settlement.status = Settlement.Status.PAID
    settlement.paid_at = now
    settlement.payment_reference = payment_reference
    settlement.updated_at = now
    settlement.save(update_fields=["status", "paid_at", "payment_reference", "updated_at"])
    for merchant_id in sorted({c.merchant_id for c in claims}):
        paid = sum((c.amount for c in claims if c.merchant_id == merchant_id), Decimal("0"))
        notification_create(
            merchant_id=merchant_id, claim=None,
            title=gettext_noop("%(carrier)s 已付款，赔付 ¥%(amount)s 已入账"),
            params={"carrier": carrier.name, "amount": money(paid)},
            now=now,
        )
    return settlement
