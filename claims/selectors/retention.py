"""What tracking-event retention must keep: scans a live complaint, claim or complaint window reads."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from waybills.models import Waybill

from ..models import Claim, Complaint

FINAL_CLAIM_STATUSES = (Claim.Status.SETTLED, Claim.Status.DISMISSED)


def tracking_events_needed_before(moment: datetime) -> bool:
    """Whether a parcel issued before `moment` (so with scans possibly older than it) still has a
    complaint being handled, a claim not yet final, or a complaint window open.

    A scan is never older than its waybill less the clock skew (waybills.services.tracking), so
    only parcels issued before `moment` can have scans in a partition ending then.
    """
    window = timedelta(days=settings.YINZUNDA_COMPLAINT_WINDOW_DAYS)
    old = Q(waybill__created_at__lt=moment)
    if Claim.objects.filter(old).exclude(status__in=FINAL_CLAIM_STATUSES).exists():
        return True
    live_complaints = Q(status__in=[Complaint.Status.RECEIVED, Complaint.Status.HELD]) | Q(
        status__in=Complaint.AFTERSALES_STATUSES, aftersales_state__in=[Complaint.AfterSales.NEW, Complaint.AfterSales.HANDLING]
    )
    if Complaint.objects.filter(old & live_complaints).exists():
        return True
    # A complaint may still be filed: the parcel moved (or was delivered) within the window.
    return (
        Waybill.objects.filter(created_at__lt=moment)
        .annotate(last_moved=Coalesce("delivered_at", "status_at", "created_at"))
        .filter(last_moved__gt=timezone.now() - window)
        .exists()
    )
