"""Recording consent to a locker/station/reception drop: append-only records, announced to the carrier."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carriers.models import Carrier
from carriers.services import webhook_enqueue

from ..errors import ConsentInvalid
from ..models import ConsentMethod, DeliveryConsent, TrackingEvent, Waybill

MAX_CONSENT_AHEAD = timedelta(days=366)  # a buyer's consent lasts at most a year


def consent_payload(consent: DeliveryConsent, *, number: str) -> dict:
    """One consent record as the carrier sees it (webhook and waybill detail)."""
    return {
        "consent_id": consent.pk,
        "waybill_number": number,
        "kind": consent.kind,
        "source": consent.source,
        "channel": consent.channel,
        "method": consent.method,
        "place": consent.place,
        "valid_until": consent.valid_until.isoformat() if consent.valid_until else None,
        "evidence": consent.evidence,
        "tracking_event_id": consent_event_id(consent),
        "recorded_at": consent.recorded_at.isoformat(),
    }


def consent_event_id(consent: DeliveryConsent) -> str | None:
    """The carrier's id of the scan this consent came with; None without one, or once its
    partition was retired (the scan is then in the archive, waybills.partitioning)."""
    if not consent.tracking_event_id:
        return None
    try:
        event = consent.tracking_event
    except TrackingEvent.DoesNotExist:
        return None
    return event.event_id if event is not None else None


def _announce(consent: DeliveryConsent, waybill: Waybill) -> None:
    webhook_enqueue(
        carrier=waybill.carrier, event_type="consent.recorded", payload=consent_payload(consent, number=waybill.number)
    )


@transaction.atomic
def consent_buyer_grant(
    *, waybill: Waybill, method: str, place: str = "", valid_until: datetime | None = None, now: datetime | None = None
) -> DeliveryConsent:
    """The buyer, on the platform, agrees to a drop by `method` (optionally at a place, until a moment)."""
    now = now or timezone.now()
    if method not in ConsentMethod.values:
        raise ConsentInvalid(_("请选择快递柜、驿站或前台代收"), field="method")
    if valid_until is not None and valid_until <= now:
        raise ConsentInvalid(_("有效期必须晚于现在"), field="valid_until")
    if valid_until is not None and valid_until > now + MAX_CONSENT_AHEAD:
        raise ConsentInvalid(_("有效期最长一年，请选择一年以内的时间"), field="valid_until")
    consent = DeliveryConsent.objects.create(
        waybill=waybill, kind=DeliveryConsent.Kind.GRANT, source=DeliveryConsent.Source.BUYER,
        channel=DeliveryConsent.Channel.BUYER_PAGE, method=method, place=place.strip()[:100],
        valid_until=valid_until, recorded_at=now,
    )
    _announce(consent, waybill)
    return consent


@transaction.atomic
def consent_buyer_withdraw(*, waybill: Waybill, now: datetime | None = None) -> DeliveryConsent:
    """The buyer withdraws every consent given so far: from now on only the door keeps the promise."""
    consent = DeliveryConsent.objects.create(
        waybill=waybill, kind=DeliveryConsent.Kind.WITHDRAW, source=DeliveryConsent.Source.BUYER,
        channel=DeliveryConsent.Channel.BUYER_PAGE, recorded_at=now or timezone.now(),
    )
    _announce(consent, waybill)
    return consent


def consent_carrier_assert(
    *, waybill: Waybill, carrier: Carrier, method: str, evidence: str, channel: str,
    tracking_event: TrackingEvent | None = None, now: datetime | None = None,
) -> DeliveryConsent:
    """A carrier says the buyer consented (with a scan or a dispute): evidence, never a cover."""
    if method not in ConsentMethod.values:
        raise ConsentInvalid(_("请选择快递柜、驿站或前台代收"), field="method")
    consent = DeliveryConsent.objects.create(
        waybill=waybill, kind=DeliveryConsent.Kind.GRANT, source=DeliveryConsent.Source.CARRIER, channel=channel,
        method=method, evidence=evidence[:500], carrier=carrier, tracking_event=tracking_event,
        recorded_at=now or timezone.now(),
    )
    _announce(consent, waybill)
    return consent

