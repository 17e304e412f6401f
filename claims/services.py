"""Every write on claims and settlements: open, accept, dispute, auto-accept, rule, settle, pay.

Each transition locks the claim row (`select_for_update`) inside one transaction, checks the
state machine in `Claim.TRANSITIONS`, updates with `update_fields` and writes one
`ClaimTransition` audit row; a unique constraint on (claim, to_status) makes a racing
duplicate fail instead of recording twice.
"""
from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carriers.models import Carrier, Tariff
from carriers.selectors import tariff_payout
from carriers.services import webhook_enqueue
from orders.models import LedgerEntry, Order, YinzundaPurchase
from orders.services import ledger_record, money
from waybills.models import TrackingEvent, Waybill

from . import routing
from .errors import (
    ClaimTransitionNotAllowed,
    ComplaintTokenReused,
    NotFound,
    PaymentAmountMismatch,
    SettlementAlreadyPaid,
)
from .models import Claim, ClaimTransition, Complaint, ComplaintPhoto, Notification, Settlement
from .selectors import claims_to_settle

logger = logging.getLogger(__name__)

Actor = ClaimTransition.Actor


def claim_webhook_payload(claim: Claim) -> dict:
    return {
        "claim_id": claim.pk,
        "waybill_number": claim.waybill.number,
        "status": claim.status,
        "complaint_type": claim.complaint_type,
        "amount": str(claim.amount),
        "currency": "CNY",
        "deadline_at": claim.deadline_at.isoformat(),
        "updated_at": claim.updated_at.isoformat(),
    }


def notification_create(
    *, merchant_id: int, claim: Claim | None, title: str, params: dict | None = None, body: str = ""
) -> Notification:
    """Inbox entry for the merchant; the e-mail goes out after commit (see claims.tasks).

    `title` is an untranslated message (gettext_noop) with %-placeholders: the inbox shows it
    in each reader's language; the stored `title` is the rendering in the default language.
    """
    params = {key: str(value) if isinstance(value, Decimal) else value for key, value in (params or {}).items()}
    with translation.override(settings.LANGUAGE_CODE):
        rendered = _(title) % params if params else _(title)
    note = Notification.objects.create(
        merchant_id=merchant_id, claim=claim, title=rendered[:200], title_template=title[:200], params=params, body=body
    )

    def _send() -> None:
        from .tasks import notification_email

        notification_email.delay(note.pk)

    transaction.on_commit(_send)
    return note


def claim_open(
    *,
    waybill: Waybill,
    complaint_type: str,
    tariff: Tariff,
    amount: Decimal,
    complaint: Complaint | None = None,
    source_event: TrackingEvent | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Claim:
    """Open a claim against the waybill's carrier. Callers hold the complaint's lock."""
    now = now or timezone.now()
    carrier = waybill.carrier
    order = waybill.order
    claim = Claim.objects.create(
        complaint=complaint,
        trigger=Claim.Trigger.COMPLAINT if complaint else Claim.Trigger.TRACKING,
        source_event=source_event,
        waybill=waybill,
        carrier=carrier,
        merchant_id=order.merchant_id,
        order=order,
        complaint_type=complaint_type,
        tariff=tariff,
        amount=money(amount),
        status=Claim.Status.OPEN,
        deadline_at=now + timedelta(hours=carrier.response_deadline_hours),
        opened_at=now,
        updated_at=now,
    )
    ClaimTransition.objects.create(
        claim=claim, from_status="", to_status=Claim.Status.OPEN, actor=Actor.SYSTEM, reason=reason, created_at=now
    )
    webhook_enqueue(carrier=carrier, event_type="claim.opened", payload=claim_webhook_payload(claim))
    notification_create(
        merchant_id=order.merchant_id,
        claim=claim,
        title=gettext_noop("已向%(carrier)s发起索赔 ¥%(amount)s（订单 %(order)s）"),
        params={"carrier": carrier.name, "amount": claim.amount, "order": order.order_number},
        body=reason,
    )
    return claim


def _claim_transition(
    *,
    claim_id: int,
    to_status: str,
    actor: str,
    carrier: Carrier | None = None,
    user=None,
    reason: str = "",
    evidence: list | None = None,
    now: datetime | None = None,
) -> Claim:
    now = now or timezone.now()
    queryset = Claim.objects.select_for_update()
    if carrier is not None:
        queryset = queryset.filter(carrier=carrier)  # a carrier reaches only its own claims
    try:
        claim = queryset.get(pk=claim_id)
    except Claim.DoesNotExist:
        raise NotFound(_("索赔不存在")) from None
    if not claim.can_transition_to(to_status):
        raise ClaimTransitionNotAllowed(
            _("索赔当前状态为 %(status)s，不能变更为 %(to)s")
            % {"status": claim.status, "to": to_status}
        )
    from_status = claim.status
    claim.status = to_status
    claim.updated_at = now
    fields = ["status", "updated_at"]
    if to_status != Claim.Status.DISPUTED:
        claim.resolved_at = claim.resolved_at or now
        fields.append("resolved_at")
    claim.save(update_fields=fields)
    ClaimTransition.objects.create(
        claim=claim,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_user=user,
        actor_carrier=carrier,
        reason=reason,
        evidence=evidence or [],
        created_at=now,
    )
    return claim


@transaction.atomic
def claim_accept(*, claim_id: int, carrier: Carrier, reason: str = "") -> Claim:
    claim = _claim_transition(
        claim_id=claim_id, to_status=Claim.Status.ACCEPTED, actor=Actor.CARRIER, carrier=carrier, reason=reason
    )
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("%(carrier)s 已接受索赔 #%(id)s，赔付 ¥%(amount)s 将随结算到账"),
        params={"carrier": carrier.name, "id": claim.pk, "amount": claim.amount},
    )
    return claim


@transaction.atomic
def claim_dispute(*, claim_id: int, carrier: Carrier, reason: str, evidence: list) -> Claim:
    claim = _claim_transition(
        claim_id=claim_id, to_status=Claim.Status.DISPUTED, actor=Actor.CARRIER, carrier=carrier,
        reason=reason, evidence=evidence,
    )
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("%(carrier)s 对索赔 #%(id)s 提出申诉，平台将仲裁"),
        params={"carrier": carrier.name, "id": claim.pk},
        body=reason,
    )
    return claim


@transaction.atomic
def claim_auto_accept(*, claim_id: int, now: datetime | None = None) -> Claim | None:
    """Accept an open claim whose carrier stayed silent past the deadline; quiet if not due."""
    now = now or timezone.now()
    claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
    if claim is None or claim.status != Claim.Status.OPEN or claim.deadline_at > now:
        return None
    claim = _claim_transition(
        claim_id=claim_id, to_status=Claim.Status.AUTO_ACCEPTED, actor=Actor.SYSTEM,
        reason=_("快递公司未在答复时限内答复，系统自动接受"), now=now,
    )
    webhook_enqueue(carrier=claim.carrier, event_type="claim.auto_accepted", payload=claim_webhook_payload(claim))
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("索赔 #%(id)s 已超时自动接受，赔付 ¥%(amount)s"),
        params={"id": claim.pk, "amount": claim.amount},
    )
    return claim


@transaction.atomic
def claim_rule(*, claim_id: int, user, uphold: bool, reason: str) -> Claim:
    """A platform operator upholds or dismisses a disputed claim."""
    to_status = Claim.Status.UPHELD if uphold else Claim.Status.DISMISSED
    claim = _claim_transition(claim_id=claim_id, to_status=to_status, actor=Actor.STAFF, user=user, reason=reason)
    webhook_enqueue(carrier=claim.carrier, event_type="claim.resolved", payload={**claim_webhook_payload(claim), "reason": reason})
    title = gettext_noop("索赔 #%(id)s 仲裁结果：支持赔付 ¥%(amount)s") if uphold else gettext_noop("索赔 #%(id)s 仲裁结果：驳回")
    notification_create(
        merchant_id=claim.merchant_id, claim=claim, title=title, params={"id": claim.pk, "amount": claim.amount}, body=reason
    )
    return claim


@transaction.atomic
def settlement_issue(*, carrier: Carrier, period_end: datetime) -> Settlement | None:
    """Gather the carrier's payable claims resolved before period_end into one statement."""
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
    )
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(settlement=settlement, updated_at=timezone.now())
    webhook_enqueue(
        carrier=carrier,
        event_type="settlement.issued",
        payload={
            "settlement_id": settlement.pk,
            "reference": settlement.reference,
            "claim_count": settlement.claim_count,
            "total_amount": str(settlement.total_amount),
            "currency": "CNY",
        },
    )
    return settlement


@transaction.atomic
def settlement_confirm_payment(
    *, settlement_id: int, carrier: Carrier, payment_reference: str, amount: Decimal | None = None
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
    now = timezone.now()
    # The merchant comes with the claims (its ledger entry needs it), but only claims are locked.
    claims = list(
        Claim.objects.select_for_update(of=("self",)).select_related("merchant").filter(settlement=settlement).order_by("pk")
    )
    for claim in claims:
        _claim_transition(
            claim_id=claim.pk, to_status=Claim.Status.SETTLED, actor=Actor.CARRIER, carrier=carrier,
            reason=_("结算单 %(ref)s 付款 %(pay)s") % {"ref": settlement.reference, "pay": payment_reference}, now=now,
        )
        ledger_record(
            merchant=claim.merchant, kind=LedgerEntry.Kind.COMPENSATION, amount=claim.amount, claim=claim,
            settlement=settlement, memo=_("索赔 #%(id)s 赔付（%(carrier)s）") % {"id": claim.pk, "carrier": carrier.name},
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
        )
    return settlement


def ledger_balance_check() -> dict[str, Decimal]:
    """Ledger totals against claims and purchases; the two sides must always be equal."""
    from orders.models import YinzundaPurchase

    def total(qs, field="amount") -> Decimal:
        return money(qs.aggregate(s=Sum(field))["s"] or 0)

    return {
        "compensation_ledger": total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.COMPENSATION)),
        "compensation_claims": total(Claim.objects.filter(status=Claim.Status.SETTLED)),
        "fees_ledger": -total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.FEE)),
        "fees_purchases": total(YinzundaPurchase.objects.all(), "fee"),
        "refunds_ledger": total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.FEE_REFUND)),
        "refunds_purchases": total(YinzundaPurchase.objects.filter(status=YinzundaPurchase.Status.CANCELLED), "fee"),
        "paid_settlements": total(Settlement.objects.filter(status=Settlement.Status.PAID), "total_amount"),
    }


# --- Complaints: filing, routing, and claims opened by tracking evidence -------------------


def _complaint_reference() -> str:
    """TS + local date + 6 random digits: short enough to read out on the phone."""
    return f"TS{timezone.localdate():%y%m%d}{secrets.randbelow(10**6):06d}"


def _enqueue_route(complaint_id: int) -> None:
    """After commit: a broker outage must not lose the complaint or fail the buyer's answer;
    the sweep (`complaints_sweep_unrouted`) routes whatever was not enqueued."""
    from .tasks import complaint_route as complaint_route_task

    try:
        complaint_route_task.apply_async((complaint_id,), retry=True, retry_policy={"max_retries": 1, "interval_start": 0.1})
    except Exception:
        logger.exception("complaint %s: routing not enqueued, the sweep will route it", complaint_id)


def complaint_file(
    *,
    order: Order,
    complaint_type: str,
    description: str = "",
    photos: list[UploadedFile] | None = None,
    submission_token: uuid.UUID | None = None,
) -> Complaint:
    """Store a buyer's complaint (committed before the buyer is answered), then route it.

    The form's one-time submission token makes a double click or a resubmission return the
    complaint already filed instead of filing a second one.
    """
    def _already_filed() -> Complaint | None:
        existing = Complaint.objects.filter(submission_token=submission_token).first()
        if existing is not None and existing.order_id != order.pk:
            raise ComplaintTokenReused(_("表单已失效，请刷新页面后重新提交"), field="submission_token")
        return existing

    if submission_token is not None and (existing := _already_filed()) is not None:
        return existing
    waybill = Waybill.objects.filter(order=order).first()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                complaint = Complaint.objects.create(
                    reference=_complaint_reference(),
                    order=order,
                    waybill=waybill,
                    complaint_type=complaint_type,
                    description=description,
                    submission_token=submission_token,
                )
                for photo in photos or []:
                    ComplaintPhoto.objects.create(
                        complaint=complaint, image=photo, content_type=photo.content_type or "", size=photo.size
                    )
                transaction.on_commit(lambda pk=complaint.pk: _enqueue_route(pk))
            return complaint
        except IntegrityError:
            if submission_token is not None and (existing := _already_filed()) is not None:
                return existing  # the other click won the race
            # else: a reference collision, draw another one
    raise RuntimeError("could not allocate a complaint reference")


def _active_purchase(order_id: int) -> YinzundaPurchase | None:
    return (
        YinzundaPurchase.objects.select_related("tariff")
        .filter(order_id=order_id, status=YinzundaPurchase.Status.ACTIVE)
        .first()
    )


def _live_claim_on_waybill(waybill_id: int) -> Claim | None:
    """A parcel is compensated once: a second complaint or scan joins the existing claim."""
    return Claim.objects.filter(waybill_id=waybill_id).exclude(status=Claim.Status.DISMISSED).order_by("pk").first()


def complaint_route(*, complaint_id: int, now: datetime | None = None) -> Complaint | None:
    """Apply the routing rules to a received complaint, once; quiet if gone or already routed."""
    now = now or timezone.now()
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().filter(pk=complaint_id).first()
        if complaint is None or complaint.status != Complaint.Status.RECEIVED:
            return complaint
        waybill = None
        if complaint.waybill_id is not None:
            # The waybill lock serialises this with tracking-triggered claims on the same parcel.
            waybill = Waybill.objects.select_for_update(of=("self",)).select_related("carrier", "order").get(pk=complaint.waybill_id)
        purchase = _active_purchase(complaint.order_id)
        payout = (
            tariff_payout(tariff=purchase.tariff, complaint_type=complaint.complaint_type) if purchase else None
        )
        decision = routing.route_complaint(
            complaint_type=complaint.complaint_type,
            filed_at=complaint.created_at,
            has_waybill=waybill is not None,
            events=list(waybill.events.all()) if waybill else [],
            covered=purchase is not None,
            payout=payout,
            window_days=settings.YINZUNDA_COMPLAINT_WINDOW_DAYS,
        )
        reason = decision.reason
        if decision.opens_claim:
            status = Complaint.Status.CLAIM_OPENED
            existing = _live_claim_on_waybill(waybill.pk)
            if existing is not None:
                reason = _("同一包裹已有索赔 #%(id)s，本投诉并入该索赔，不重复赔付") % {"id": existing.pk}
            else:
                claim_open(
                    waybill=waybill, complaint=complaint, complaint_type=complaint.complaint_type,
                    tariff=purchase.tariff, amount=decision.amount, reason=reason, now=now,
                )
        elif decision.action == routing.FORWARD:
            status = Complaint.Status.FORWARDED
            notification_create(
                merchant_id=complaint.order.merchant_id, claim=None,
                title=gettext_noop("买家投诉 %(ref)s（订单 %(order)s）已转您处理"),
                params={"ref": complaint.reference, "order": complaint.order.order_number},
                body=f"{complaint.get_complaint_type_display()}：{complaint.description}\n{reason}",
            )
        else:
            status = Complaint.Status.REJECTED
        complaint.status = status
        complaint.decision_reason = reason[:500]
        complaint.routed_at = now
        complaint.save(update_fields=["status", "decision_reason", "routed_at"])
        return complaint


def claim_open_from_tracking(*, event_id: int, now: datetime | None = None) -> Claim | None:
    """Open a claim from a locker/station delivery scan of a Yinzunda parcel; quiet otherwise."""
    now = now or timezone.now()
    with transaction.atomic():
        event = TrackingEvent.objects.filter(pk=event_id).first()
        if event is None:
            return None
        waybill = Waybill.objects.select_for_update(of=("self",)).select_related("carrier", "order").get(pk=event.waybill_id)
        purchase = _active_purchase(waybill.order_id)
        complaint_type = routing.ComplaintType.LOCKER_WITHOUT_CONSENT
        payout = tariff_payout(tariff=purchase.tariff, complaint_type=complaint_type) if purchase else None
        decision = routing.route_tracking_event(
            event=event, covered=purchase is not None, payout=payout,
            enabled=settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING,
        )
        if not decision.opens_claim or _live_claim_on_waybill(waybill.pk) is not None:
            return None
        return claim_open(
            waybill=waybill, source_event=event, complaint_type=complaint_type,
            tariff=purchase.tariff, amount=decision.amount, reason=decision.reason, now=now,
        )
