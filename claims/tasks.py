"""Celery tasks for complaints, claims and settlements: thin wrappers taking ids."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from carriers.models import Carrier
from yinzunda.outbox import operator_alert_raise, operator_alert_resolve

from .errors import LedgerOutOfBalance
from .models import Claim, Complaint, Notification
from .selectors.claims import claims_to_settle
from .selectors.complaints import complaints_held_due
from .selectors.notifications import (
    merchants_for_digest,
    notification_digest,
    notification_email_subject,
    notification_email_text,
)
from .services import claims, complaints, ledger, rollups, scorecard, settlements, watcher
from .services.notifications import notifications_mark_digested

logger = logging.getLogger(__name__)
# A complaint still "received" this long after filing lost its routing task (broker down,
# worker killed): the sweep enqueues it again. Routing is idempotent, so a race is harmless.
SWEEP_AFTER = timedelta(seconds=30)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email(notification_id: int) -> bool:
    """One e-mail per inbox entry, with its details and a link; merchants on the digest get none."""
    note = Notification.objects.select_related("merchant", "complaint").filter(pk=notification_id).first()
    if note is None or not note.merchant.email or note.merchant.email_digest:
        return False
    send_mail(
        subject=notification_email_subject(note), message=notification_email_text(note),
        from_email=None, recipient_list=[note.merchant.email],
    )
    # Sent: a merchant who switches to the digest later does not get it a second time.
    notifications_mark_digested(notification_ids=[note.pk], now=timezone.now())
    return True


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notifications_email(notification_ids: list[int]) -> int:
    """The e-mails of a batch of inbox entries (the watcher writes them by the hundred)."""
    return sum(1 for pk in notification_ids if notification_email(pk))


@shared_task
def notification_digests_send(now_iso: str | None = None) -> int:
    """Beat (08:00): one e-mail per digest merchant with the inbox entries not yet sent."""
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    sent = 0
    for merchant in merchants_for_digest():
        digest = notification_digest(merchant=merchant, now=now)
        if digest is None:
            continue
        send_mail(subject=digest.subject, message=digest.text, from_email=None, recipient_list=[merchant.email])
        notifications_mark_digested(notification_ids=digest.notification_ids, now=now)
        sent += 1
    return sent


@shared_task(acks_late=True)
def claim_auto_accept(claim_id: int) -> bool:
    return claims.claim_auto_accept(claim_id=claim_id) is not None


@shared_task
def claims_auto_accept_overdue() -> int:
    """Beat: auto-accept every open claim past its carrier response deadline."""
    overdue = list(
        Claim.objects.filter(status=Claim.Status.OPEN, deadline_at__lte=timezone.now()).values_list("pk", flat=True)[:1000]
    )
    for pk in overdue:
        claim_auto_accept.delay(pk)
    return len(overdue)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, outbox_in_transaction=True)
def complaint_route(complaint_id: int) -> str | None:
    """Route one complaint; running it twice is harmless (the second finds it routed)."""
    complaint = complaints.complaint_route(complaint_id=complaint_id)
    return complaint.status if complaint else None


@shared_task
def complaints_sweep_unrouted(older_than_seconds: float | None = None) -> int:
    """Beat: re-enqueue complaints left unrouted (the broker was down, the worker was killed)."""
    age = SWEEP_AFTER if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    stale = list(
        Complaint.objects.filter(status=Complaint.Status.RECEIVED, created_at__lte=timezone.now() - age)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in stale:
        complaint_route.delay(pk)
    if stale:
        logger.warning("sweep re-enqueued %d unrouted complaints", len(stale))
    return len(stale)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, outbox_in_transaction=True)
def promises_watch(waybill_ids: list[int]) -> list[int]:
    """After a batch of scans: the promise watcher on the parcels scanned; ids of the claims opened."""
    return watcher.promises_watch(waybill_ids=waybill_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, outbox_in_transaction=True)
def claims_announce(claim_ids: list[int]) -> int:
    """Webhooks and inbox entries of claims a large sweep opened (exactly once: its outbox row
    is marked done in the same transaction)."""
    return watcher.claims_announce(claim_ids=claim_ids)


@shared_task
def promises_sweep() -> int:
    """Beat: clocks that ran out with no scan (every parcel in flight), then held complaints due again."""
    opened = watcher.promises_watch(waybill_ids=None)
    due = complaints_held_due()
    for pk in due:
        complaint_route.delay(pk)
    return len(opened)


@shared_task
def ledger_balance_check() -> bool:
    """Beat (hourly): claims, settlements and the ledger must agree; if not, operators are alerted
    (an error log line and an open alert in the admin, shown by /readyz) until they agree again."""
    try:
        ledger.ledger_balance_verify()
    except LedgerOutOfBalance as exc:
        operator_alert_raise(kind="ledger_out_of_balance", message=f"ledger out of balance: {exc}")
        return False
    operator_alert_resolve(kind="ledger_out_of_balance")
    return True


@shared_task
def settlements_issue_daily() -> list[int]:
    """Beat (02:00): one statement per carrier of its payable claims resolved before midnight."""
    period_end = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    carrier_ids = (
        claims_to_settle(period_end=period_end)
        .values_list("carrier_id", flat=True)
        .distinct()
    )
    issued = []
    for carrier in Carrier.objects.filter(pk__in=list(carrier_ids)).order_by("pk"):
        try:
            settlement = settlements.settlement_issue(carrier=carrier, period_end=period_end)
        except IntegrityError:  # a statement for this carrier and period exists: rerun of the day
            logger.warning("settlement for %s up to %s already issued", carrier.code, period_end)
            continue
        if settlement is not None:
            issued.append(settlement.pk)
    return issued


@shared_task
def scorecard_refresh() -> int:
    """Beat: recompute the carrier scorecard's rollup for this week and last week."""
    return scorecard.scorecard_refresh()


@shared_task
def rollups_compact() -> int:
    """Beat: fold the dashboard rollups' delta rows, so the overview sums one row per day."""
    return rollups.rollups_compact()
