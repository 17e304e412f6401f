"""Reads of the merchant's after-sales queue: complaints forwarded to it or refused, with their clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from orders.models import Merchant
from yinzunda.pagination import KeysetPage, keyset_paginate

from ..models import Claim, Complaint

KINDS = {"forwarded": Complaint.Status.FORWARDED, "rejected": Complaint.Status.REJECTED}


def aftersales_target_at(complaint: Complaint) -> datetime | None:
    """When the merchant should have answered: the target hours after the complaint reached it."""
    if complaint.routed_at is None:
        return None
    return complaint.routed_at + timedelta(hours=settings.YINZUNDA_AFTERSALES_TARGET_HOURS)


@dataclass(frozen=True)
class QueueRow:
    complaint: Complaint
    age: timedelta
    target_at: datetime | None
    overdue: bool


def _queue(*, merchant: Merchant) -> QuerySet[Complaint]:
    return Complaint.objects.filter(
        order__merchant=merchant, status__in=Complaint.AFTERSALES_STATUSES
    )


def aftersales_queue(
    *, merchant: Merchant, filters: dict[str, Any] | None = None, cursor: str | None = None,
    now: datetime | None = None,
) -> tuple[KeysetPage, list[QueueRow]]:
    """One page of the queue, newest routed first, each row with its age and target time."""
    now = now or timezone.now()
    filters = filters or {}
    qs = _queue(merchant=merchant).select_related("order", "waybill__carrier")
    if filters.get("state"):
        qs = qs.filter(aftersales_state=filters["state"])
    if filters.get("kind") in KINDS:
        qs = qs.filter(status=KINDS[filters["kind"]])
    if filters.get("complaint_type"):
        qs = qs.filter(complaint_type=filters["complaint_type"])
    if filters.get("q"):
        qs = qs.filter(Q(order__order_number=filters["q"]) | Q(reference=filters["q"].upper()))
    page = keyset_paginate(qs, cursor=cursor, time_field="routed_at")
    rows = []
    for complaint in page.items:
        target = aftersales_target_at(complaint)
        overdue = (
            target is not None and complaint.aftersales_state != Complaint.AfterSales.RESOLVED and now > target
        )
        rows.append(QueueRow(complaint=complaint, age=now - complaint.created_at, target_at=target, overdue=overdue))
    return page, rows


def aftersales_state_counts(*, merchant: Merchant) -> dict[str, int]:
    counts = dict(
        _queue(merchant=merchant).values_list("aftersales_state").annotate(n=Count("id")).values_list("aftersales_state", "n")
    )
    return {state: counts.get(state, 0) for state in Complaint.AfterSales.values}


def aftersales_get(*, merchant: Merchant, reference: str) -> Complaint | None:
    return (
        _queue(merchant=merchant)
        .select_related("order", "waybill__carrier")
        .prefetch_related("photos")
        .filter(reference=reference)
        .first()
    )


def merchant_claim_get(*, merchant: Merchant, claim_id: int) -> Claim | None:
    """One claim of this merchant with the carrier's dispute and the merchant's answers."""
    if claim_id >= 2**63:
        return None
    return (
        Claim.objects.filter(merchant=merchant, pk=claim_id)
        .select_related("carrier", "order", "waybill", "complaint", "settlement")
        .prefetch_related(
            "transitions", "merchant_answers__photos", "complaint__photos",
            Prefetch("joined_complaints", queryset=Complaint.objects.order_by("created_at", "id")),
        )
        .first()
    )
