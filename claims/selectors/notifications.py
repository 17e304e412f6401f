"""The merchant's inbox: entries newest first and the unread count."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from orders.models import Merchant

from ..models import Notification

ZERO = Decimal("0.00")


def notification_list(
    *, merchant: Merchant, unread_only: bool = False, limit: int | None = None
) -> QuerySet[Notification]:
    qs = (
        Notification.objects.filter(merchant=merchant)
        .select_related("claim", "complaint")
        .order_by("-created_at", "-id")
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs[:limit] if limit else qs


def notification_unread_count(*, merchant: Merchant) -> int:
    return Notification.objects.filter(merchant=merchant, read_at__isnull=True).count()
