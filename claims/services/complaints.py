"""Complaints: a buyer files one (stored before the answer), a worker judges it by the promise
rule table (DESIGN §3a); held complaints are judged again by the watcher's sweep."""
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

from carriers.choices import COMPLAINT_PROMISE, ComplaintType
from orders.models import Order
from orders.selectors.orders import purchase_active_with_payout
from orders.selectors.promises import promise_states
from waybills.models import TrackingEvent, Waybill
from waybills.promises import breach_record
from waybills.selectors import waybill_consents
from yinzunda.db import commit_without_waiting_for_disk
from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.images import CleanImage
from yinzunda.texts import label_message, message, render_platform

from .. import routing
from ..errors import ComplaintTokenReused
from ..models import Claim, Complaint
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
    """Judge a received (or held, now due) complaint by the rule table; quiet if gone or settled.

    A breach the watcher already claimed is joined, not claimed twice; a complaint the data
    cannot settle yet is held and judged again by the sweep at `recheck_at`.
    """
    now = now or timezone.now()
    # No savepoint when the outbox runner already holds a transaction: two statements less.
    with transaction.atomic(savepoint=False):
        commit_without_waiting_for_disk()
        complaint = Complaint.objects.select_for_update().filter(pk=complaint_id).first()
        if complaint is None or complaint.status not in (Complaint.Status.RECEIVED, Complaint.Status.HELD):
            return complaint
        if complaint.status == Complaint.Status.HELD and complaint.recheck_at > now:
            return complaint
        waybill = None
        if complaint.waybill_id is not None:
            # The waybill lock serialises this with other complaints on the same parcel.
            waybill = Waybill.objects.select_for_update(of=("self",)).select_related("carrier", "order").get(pk=complaint.waybill_id)
        purchase, payout = purchase_active_with_payout(order_id=complaint.order_id, complaint_type=complaint.complaint_type)
        promise = COMPLAINT_PROMISE.get(complaint.complaint_type, "")
        events, states = [], []
        if waybill is not None and purchase is not None:
            events = list(TrackingEvent.objects.of_waybill(waybill).order_by("occurred_at", "id"))
            states = promise_states(
                tariff=purchase.tariff, events=events, consents=list(waybill_consents(waybill=waybill)), now=now,
                covered_only=False,
            )
        decision = routing.route_complaint(
            complaint_type=complaint.complaint_type,
            filed_at=complaint.created_at,
            now=now,
            has_waybill=waybill is not None,
            covered=purchase is not None,
            payout=payout,
            window_days=settings.YINZUNDA_COMPLAINT_WINDOW_DAYS,
            states=states,
            existing_claim=_claim_on(waybill, promise),
        )
        reason = decision.message
        joined = None
        complaint.recheck_at = None
        if decision.opens_claim:
            status = Complaint.Status.CLAIM_OPENED
            try:
                with transaction.atomic():
                    claim_open(
                        waybill=waybill, complaint=complaint, complaint_type=complaint.complaint_type,
                        tariff=purchase.tariff, amount=decision.amount, reason=reason, now=now, promise=promise,
                        breach=breach_record(decision.breach, observed_at=now) if decision.breach else None,
                        events=events,
                    )
            except IntegrityError:  # the watcher claimed this breach a moment ago: join its claim
                joined_id, _status = _claim_on(waybill, promise)
                joined = joined_id
                reason = routing.joined_message(joined_id)
        elif decision.action == routing.JOIN:
            status = Complaint.Status.CLAIM_OPENED
            joined = decision.claim_id
        elif decision.action == routing.HOLD:
            status = Complaint.Status.HELD
            complaint.recheck_at = decision.recheck_at
        elif decision.action == routing.FORWARD:
            status = Complaint.Status.FORWARDED
            notification_create(
                merchant_id=complaint.order.merchant_id, claim=None, complaint=complaint,
                title=gettext_noop("买家投诉 %(ref)s（订单 %(order)s）已转您处理"),
                params={"ref": complaint.reference, "order": complaint.order.order_number},
                body_message=message(
                    gettext_noop("%(type)s：%(description)s\n%(reason)s"), reason=reason,
                    type=label_message(ComplaintType(complaint.complaint_type).label), description=complaint.description,
                ),
                now=now,
            )
        else:
            status = Complaint.Status.REJECTED
            joined = decision.claim_id  # a final ruling on the same breach, if that is why
        complaint.status = status
        complaint.joined_claim_id = joined
        complaint.decision_reason = render_platform(reason)[:500]
        complaint.decision_reason_msg = reason
        complaint.routed_at = now
        complaint.save(update_fields=[
            "status", "decision_reason", "decision_reason_msg", "routed_at", "recheck_at", "joined_claim",
        ])
        return complaint


def _claim_on(waybill: Waybill | None, promise: str) -> tuple[int, str] | None:
    """The claim already on this (waybill, promise), as (id, status)."""
    if waybill is None or not promise:
        return None
    return Claim.objects.filter(waybill=waybill, promise=promise).values_list("pk", "status").first()

