"""Reads about carriers: current tariff, payouts, and the carrier API's scoped claims/settlements."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from .models import Carrier, Tariff, TariffPayout


def tariff_current(*, carrier: Carrier, at=None) -> Tariff | None:
    at = at or timezone.now()
    return Tariff.objects.filter(carrier=carrier, effective_from__lte=at).order_by("-effective_from").first()


def tariff_payout(*, tariff: Tariff, complaint_type: str) -> Decimal | None:
    payout = TariffPayout.objects.filter(tariff=tariff, complaint_type=complaint_type).first()
    return payout.amount if payout else None


# ---------------------------------------------------------------------------------------
# Carrier-scoped reads for the carrier API: every query starts from the carrier (DESIGN §5.4).
# ---------------------------------------------------------------------------------------


def _claims_scoped(*, carrier: Carrier):
    from claims.models import Claim

    return Claim.objects.filter(carrier=carrier)


def carrier_claims_list(
    *, carrier: Carrier, statuses: list[str] | None = None, updated_since: datetime | None = None
) -> QuerySet:
    """The carrier's claims for a list page: the waybill number comes with the same query."""
    queryset = _claims_scoped(carrier=carrier).select_related("waybill").only(
        "id", "status", "complaint_type", "amount", "deadline_at", "opened_at", "updated_at",
        "resolved_at", "settlement_id", "trigger", "waybill__number",
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def carrier_claim_detail(*, carrier: Carrier, claim_id: int):
    """One claim of this carrier with its complaint, tracking evidence and history; None if not its own."""
    from claims.models import ClaimTransition
    from waybills.models import TrackingEvent

    return (
        _claims_scoped(carrier=carrier)
        .select_related("waybill", "complaint", "settlement")
        .annotate(photo_count=Count("complaint__photos"))
        .prefetch_related(
            Prefetch("transitions", queryset=ClaimTransition.objects.order_by("created_at", "id")),
            Prefetch("waybill__events", queryset=TrackingEvent.objects.order_by("occurred_at", "id")),
        )
        .filter(pk=claim_id)
        .first()
    )


def carrier_settlements_list(
    *, carrier: Carrier, statuses: list[str] | None = None, updated_since: datetime | None = None
) -> QuerySet:
    from claims.models import Claim, Settlement

    queryset = Settlement.objects.filter(carrier=carrier).prefetch_related(
        Prefetch("claims", queryset=Claim.objects.only("id", "settlement_id").order_by("id"))
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def carrier_settlement_detail(*, carrier: Carrier, settlement_id: int):
    return carrier_settlements_list(carrier=carrier).filter(pk=settlement_id).first()
