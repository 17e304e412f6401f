"""Every write on a claim: open it, and move it through the state machine (accept, dispute,
auto-accept, the operator's ruling).

Each transition locks the claim row (`select_for_update`) inside one transaction, checks the
state machine in `Claim.TRANSITIONS`, updates with `update_fields` and writes one
`ClaimTransition` audit row; a unique constraint on (claim, to_status) makes a racing
duplicate fail instead of recording twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carriers.models import Carrier, Tariff
from carriers.services import webhook_enqueue
from waybills.models import ConsentMethod, DeliveryConsent, TrackingEvent, Waybill
from waybills.services.consent import consent_carrier_assert
from yinzunda.errors import NotFound
from yinzunda.money import money
from yinzunda.texts import Message, message, render_platform

from ..errors import ClaimTransitionNotAllowed
from ..models import Claim, ClaimTransition, Complaint
from ..selectors.webhook_payloads import claim_webhook_payload
from .notifications import notification_create

Actor = ClaimTransition.Actor


def claim_open(
    *,
    waybill: Waybill,
    complaint_type: str,
    tariff: Tariff,
    amount: Decimal,
    complaint: Complaint | None = None,
    source_event: TrackingEvent | None = None,
    reason: Message | str | None = None,
    promise: str = "",
    breach: dict | None = None,
    now: datetime | None = None,
    announce: bool = True,
    events: list[TrackingEvent] | None = None,
) -> Claim:
    """Open a claim against the waybill's carrier. Callers hold the complaint's lock.

    A second claim on the same (waybill, promise) raises IntegrityError (the constraint):
    callers that may race the watcher open it in a savepoint. `announce=False` leaves the
    webhook and the inbox entry to the caller (the watcher sends them for a whole batch).
    `events`: the waybill's scans in order, when the caller has them (saves a read).
    """
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
        promise=promise,
        breach=breach or {},
        tariff=tariff,
        amount=money(amount),
        status=Claim.Status.OPEN,
        deadline_at=now + timedelta(hours=carrier.response_deadline_hours),
        opened_at=now,
        updated_at=now,
    )
    ClaimTransition.objects.create(
        claim=claim, from_status="", to_status=Claim.Status.OPEN, actor=Actor.SYSTEM,
        reason=render_platform(reason) if isinstance(reason, dict) else reason or "",
        reason_msg=reason if isinstance(reason, dict) else None, created_at=now,
        evidence=[{"kind": "breach", **breach}] if breach else [],
    )
    if not announce:
        return claim
    webhook_enqueue(carrier=carrier, event_type="claim.opened", payload=claim_webhook_payload(claim, events=events))
    notification_create(
        merchant_id=order.merchant_id,
        claim=claim,
        title=gettext_noop("已向%(carrier)s发起索赔 ¥%(amount)s（订单 %(order)s）"),
        params={"carrier": carrier.name, "amount": claim.amount, "order": order.order_number},
        body="" if isinstance(reason, dict) else reason or "",
        body_message=reason if isinstance(reason, dict) else None,
        now=now,
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
    reason_msg: Message | None = None,
    evidence: list | None = None,
    now: datetime | None = None,
) -> Claim:
    """`reason`: a person's words; `reason_msg`: the platform's own reason (stored as a message)."""
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
        reason=render_platform(reason_msg) if reason_msg else reason,
        reason_msg=reason_msg or None,
        evidence=evidence or [],
        created_at=now,
    )
    return claim


@transaction.atomic
def claim_accept(*, claim_id: int, carrier: Carrier, reason: str = "", now: datetime | None = None) -> Claim:
    claim = _claim_transition(
        claim_id=claim_id, to_status=Claim.Status.ACCEPTED, actor=Actor.CARRIER, carrier=carrier, reason=reason, now=now
    )
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("%(carrier)s 已接受索赔 #%(id)s，赔付 ¥%(amount)s 将随结算到账"),
        params={"carrier": carrier.name, "id": claim.pk, "amount": claim.amount},
        now=now,
    )
    return claim


@transaction.atomic
def claim_dispute(
    *, claim_id: int, carrier: Carrier, reason: str, evidence: list, now: datetime | None = None
) -> Claim:
    claim = _claim_transition(
        claim_id=claim_id, to_status=Claim.Status.DISPUTED, actor=Actor.CARRIER, carrier=carrier,
        reason=reason, evidence=evidence, now=now,
    )
    # Consent the carrier asserts goes on the parcel's consent record: evidence for the operator.
    for item in evidence:
        if item.get("type") == "buyer_consent":
            method = claim.breach.get("method") or claim.waybill.delivery_method
            consent_carrier_assert(
                waybill=claim.waybill, carrier=carrier,
                method=method if method in ConsentMethod.values else ConsentMethod.STATION,
                evidence=" ".join(filter(None, [item.get("url", ""), item.get("note", "")])) or reason,
                channel=DeliveryConsent.Channel.DISPUTE,
            )
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("%(carrier)s 对索赔 #%(id)s 提出申诉，平台将仲裁"),
        params={"carrier": carrier.name, "id": claim.pk},
        body=reason,
        now=now,
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
        reason_msg=message(gettext_noop("快递公司未在答复时限内答复，系统自动接受")), now=now,
    )
    webhook_enqueue(carrier=claim.carrier, event_type="claim.auto_accepted", payload=claim_webhook_payload(claim))
    notification_create(
        merchant_id=claim.merchant_id, claim=claim,
        title=gettext_noop("索赔 #%(id)s 已超时自动接受，赔付 ¥%(amount)s"),
        params={"id": claim.pk, "amount": claim.amount},
        now=now,
    )
    return claim


@transaction.atomic
def claim_ruling(*, claim_id: int, user, uphold: bool, reason: str, now: datetime | None = None) -> Claim:
    """A platform operator upholds or dismisses a disputed claim."""
    to_status = Claim.Status.UPHELD if uphold else Claim.Status.DISMISSED
    claim = _claim_transition(
        claim_id=claim_id, to_status=to_status, actor=Actor.STAFF, user=user, reason=reason, now=now
    )
    webhook_enqueue(carrier=claim.carrier, event_type="claim.resolved", payload={**claim_webhook_payload(claim), "reason": reason})
    title = gettext_noop("索赔 #%(id)s 仲裁结果：支持赔付 ¥%(amount)s") if uphold else gettext_noop("索赔 #%(id)s 仲裁结果：驳回")
    notification_create(
        merchant_id=claim.merchant_id, claim=claim, title=title, params={"id": claim.pk, "amount": claim.amount},
        body=reason, now=now,
    )
    return claim
