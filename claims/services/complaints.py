"""Complaints: a buyer files one (stored before the answer), a worker routes it, and tracking
evidence can open a claim with no complaint at all."""
from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from carriers.choices import ComplaintType
from carriers.selectors import tariff_payout
from orders.models import Order
from orders.selectors.orders import active_purchase_exists, purchase_active_get
from waybills.models import TrackingEvent, Waybill
from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.images import CleanImage

from .. import routing
from ..errors import ComplaintTokenReused
from ..models import Claim, Complaint
from ..selectors.claims import claim_live_on_waybill
from .claims import claim_open
from .notifications import notification_create
from .photos import complaint_photo_store


def _complaint_reference(now: datetime, rng: random.Random | None) -> str:
    """TS + local date + 6 random digits: short enough to read out on the phone."""
    digits = rng.randrange(10**6) if rng is not None else secrets.randbelow(10**6)
    return f"TS{timezone.localtime(now):%y%m%d}{digits:06d}"


def complaint_file(
    *,
    order: Order,
    complaint_type: str,
    description: str = "",
    photos: list[CleanImage] | None = None,
    submission_token: uuid.UUID | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Complaint:
    """Store a buyer's complaint (committed before the buyer is answered), then route it.

    Photos come re-encoded (`photo_reencode`): nothing the buyer uploaded is stored as sent.
    The form's one-time submission token makes a double click or a resubmission return the
    complaint already filed instead of filing a second one. `now` and a seeded `rng` (for the
    reference's digits) let the demo world file its history reproducibly.
    """
    now = now or timezone.now()

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
                    reference=_complaint_reference(now, rng),
                    order=order,
                    waybill=waybill,
                    complaint_type=complaint_type,
                    description=description,
                    submission_token=submission_token,
                    created_at=now,
                )
                for photo in photos or []:
                    complaint_photo_store(complaint=complaint, photo=photo)
                task_enqueue_on_commit("claims.tasks.complaint_route", complaint.pk)
            return complaint
        except IntegrityError:
            if submission_token is not None and (existing := _already_filed()) is not None:
                return existing  # the other click won the race
            # else: a reference collision, draw another one
    raise RuntimeError("could not allocate a complaint reference")


def complaint_route(*, complaint_id: int, now: datetime | None = None) -> Complaint | None:
    """Apply the routing rules to a received complaint, once; quiet if gone or already routed."""
    now = now or timezone.now()
    # No savepoint when the outbox runner already holds a transaction: two statements less.
    with transaction.atomic(savepoint=False):
        complaint = Complaint.objects.select_for_update().filter(pk=complaint_id).first()
        if complaint is None or complaint.status != Complaint.Status.RECEIVED:
            return complaint
        waybill = None
        if complaint.waybill_id is not None:
            # The waybill lock serialises this with tracking-triggered claims on the same parcel.
            waybill = Waybill.objects.select_for_update(of=("self",)).select_related("carrier", "order").get(pk=complaint.waybill_id)
        purchase = purchase_active_get(order_id=complaint.order_id)
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
            existing = claim_live_on_waybill(waybill_id=waybill.pk)
            if existing is None:
                claim_open(
                    waybill=waybill, complaint=complaint, complaint_type=complaint.complaint_type,
                    tariff=purchase.tariff, amount=decision.amount, reason=reason, now=now,
                )
            elif existing.status == Claim.Status.DISMISSED:
                # A ruling is final: filing again neither reopens it nor lets a silent carrier pay.
                complaint.joined_claim, status = existing, Complaint.Status.REJECTED
                reason = _(
                    "平台此前已核实过这个包裹的同一问题：快递公司提供的证据成立，裁定不予赔付。"
                    "这个裁定是最终结果，再次投诉不会重新索赔。如包裹仍有问题，请联系商家协商售后。"
                )
            else:
                complaint.joined_claim = existing
                reason = _("同一包裹已有索赔 #%(id)s，本投诉并入该索赔，不重复赔付") % {"id": existing.pk}
        elif decision.action == routing.FORWARD:
            status = Complaint.Status.FORWARDED
            notification_create(
                merchant_id=complaint.order.merchant_id, claim=None, complaint=complaint,
                title=gettext_noop("买家投诉 %(ref)s（订单 %(order)s）已转您处理"),
                params={"ref": complaint.reference, "order": complaint.order.order_number},
                body=f"{complaint.get_complaint_type_display()}：{complaint.description}\n{reason}",
                now=now,
            )
        else:
            status = Complaint.Status.REJECTED
        complaint.status = status
        complaint.decision_reason = reason[:500]
        complaint.routed_at = now
        complaint.save(update_fields=["status", "decision_reason", "routed_at", "joined_claim"])
        return complaint


def claim_open_from_tracking(*, event_id: int, now: datetime | None = None) -> Claim | None:
    """Open a claim from a locker/station delivery scan of a Yinzunda parcel; quiet otherwise."""
    now = now or timezone.now()
    with transaction.atomic():
        event = TrackingEvent.objects.filter(pk=event_id).first()
        if event is None:
            return None
        waybill = Waybill.objects.select_for_update(of=("self",)).select_related("carrier", "order").get(pk=event.waybill_id)
        purchase = purchase_active_get(order_id=waybill.order_id)
        complaint_type = ComplaintType.LOCKER_WITHOUT_CONSENT
        payout = tariff_payout(tariff=purchase.tariff, complaint_type=complaint_type) if purchase else None
        decision = routing.route_tracking_event(
            event=event, covered=purchase is not None, payout=payout,
            enabled=settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING,
        )
        if not decision.opens_claim or claim_live_on_waybill(waybill_id=waybill.pk) is not None:
            return None
        return claim_open(
            waybill=waybill, source_event=event, complaint_type=complaint_type,
            tariff=purchase.tariff, amount=decision.amount, reason=decision.reason, now=now,
        )


def claims_open_from_tracking(*, event_ids: list[int], now: datetime | None = None) -> list[Claim]:
    """Evaluate a batch of delivery scans: one read tells which parcels are covered; the rule
    turns the uncovered ones away without a lock, the others go through claim_open_from_tracking."""
    events = TrackingEvent.objects.filter(pk__in=event_ids).annotate(covered=active_purchase_exists("waybill__order"))
    opened = []
    for event in sorted(events, key=lambda e: e.pk):
        if not event.covered and not routing.route_tracking_event(
            event=event, covered=False, payout=None, enabled=settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING
        ).opens_claim:
            continue
        claim = claim_open_from_tracking(event_id=event.pk, now=now)
        if claim is not None:
            opened.append(claim)
    return opened
