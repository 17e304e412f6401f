"""The `data` of claim and settlement webhooks: enough for a carrier to act without calling back.

Same fields and vocabularies as the carrier API's claim detail and settlement; datetimes are
passed as datetimes and written in +08:00 by `carriers.services.webhook_enqueue`.
"""
from __future__ import annotations

from waybills.models import TrackingEvent
from waybills.promises import breach_state
from yinzunda.masking import mask_free_text

from ..models import Claim, Settlement

EVIDENCE_LIMIT = 50  # the latest scans; the claim detail endpoint has them all


_EVENT_FIELDS = ("event_id", "code", "occurred_at", "location", "delivery_method", "proof_type", "proof_url", "late")


def _event(event) -> dict:
    """A scan (a TrackingEvent or a row with its fields) as the webhook shows it."""
    return {field: getattr(event, field) for field in _EVENT_FIELDS}


def breach_payload(claim: Claim, *, event_ids: dict[int, str]) -> dict | None:
    """The claim's breach as carriers see it (API and webhooks): the scans by their own event_id,
    the clock in words; None for a claim the scans did not show (a buyer's complaint)."""
    state = breach_state(claim.breach)
    if state is None:
        return None
    record = claim.breach
    return {
        "rule": record["rule"], "clock_hours": record.get("clock_hours") or 0,
        "started_at": state.started_at, "due_at": state.due_at, "ended_at": state.ended_at,
        "delivery_method": record.get("method") or "", "carrier_consent": bool(record.get("carrier_consent")),
        "source_event_id": event_ids.get(record.get("source_event_id")),
        "end_event_id": event_ids.get(record.get("end_event_id")),
        "observed_at": state.now, "text": state.observed_text(),
    }


def claim_webhook_payload(claim: Claim, *, events: list[TrackingEvent] | None = None) -> dict:
    """Claim summary, trigger, the buyer's complaint (no buyer name, phone or address; pickup codes
    and phone numbers in its text masked) and the scans, as the claim detail endpoint shows them.

    Photos are not in the body: the claim detail endpoint lists them with expiring signed URLs.
    `events`: the waybill's scans in order, when the caller has them already."""
    if events is not None:
        return _claim_payload(claim, events)
    return claim_webhook_payloads([claim])[claim.pk]


def claim_webhook_payloads(claims: list[Claim]) -> dict[int, dict]:
    """claim_webhook_payload for many claims with one query for all their scans."""
    events: dict[int, list] = {}
    rows = (
        TrackingEvent.objects.filter(waybill_id__in={c.waybill_id for c in claims}).order_by("occurred_at", "id")
        .values_list("id", "waybill_id", *_EVENT_FIELDS, named=True)  # rows, not models: thousands at a time
    )
    for event in rows:
        events.setdefault(event.waybill_id, []).append(event)
    return {claim.pk: _claim_payload(claim, events.get(claim.waybill_id, [])) for claim in claims}


def _claim_payload(claim: Claim, events: list[TrackingEvent]) -> dict:
    complaint = claim.complaint
    by_pk = {event.id: event.event_id for event in events}
    return {
        "claim_id": claim.pk,
        "waybill_number": claim.waybill.number,
        "status": claim.status,
        "trigger": claim.trigger,
        "complaint_type": claim.complaint_type,
        "promise": claim.promise,
        "breach": breach_payload(claim, event_ids=by_pk),
        "amount": str(claim.amount),
        "currency": "CNY",
        "deadline_at": claim.deadline_at,
        "opened_at": claim.opened_at,
        "updated_at": claim.updated_at,
        "resolved_at": claim.resolved_at,
        "source_event_id": by_pk.get(claim.source_event_id) if claim.source_event_id else None,
        "complaint": None if complaint is None else {
            "reference": complaint.reference,
            "type": complaint.complaint_type,
            "description": mask_free_text(complaint.description),  # as in the API: pickup codes, phones masked
            "created_at": complaint.created_at,
        },
        "evidence": [_event(e) for e in events[-EVIDENCE_LIMIT:]],  # the latest scans
    }


def settlement_webhook_payload(settlement: Settlement, *, claim_ids: list[int]) -> dict:
    return {
        "settlement_id": settlement.pk,
        "reference": settlement.reference,
        "status": settlement.status,
        "period_start": settlement.period_start,
        "period_end": settlement.period_end,
        "claim_count": settlement.claim_count,
        "claim_ids": sorted(claim_ids),
        "total_amount": str(settlement.total_amount),
        "currency": "CNY",
        "issued_at": settlement.issued_at,
    }
