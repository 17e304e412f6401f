"""Celery tasks for complaints, claims and settlements: thin wrappers taking ids."""
from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import Claim, Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email(notification_id: int) -> bool:
    note = Notification.objects.select_related("merchant").filter(pk=notification_id).first()
    if note is None or not note.merchant.email:
        return False
    send_mail(subject=f"[音尊达] {note.title}", message=note.body or note.title, from_email=None, recipient_list=[note.merchant.email])
    return True


@shared_task(acks_late=True)
def claim_auto_accept(claim_id: int) -> bool:
    from .services import claim_auto_accept as auto_accept

    return auto_accept(claim_id=claim_id) is not None


@shared_task
def claims_auto_accept_overdue() -> int:
    """Beat: auto-accept every open claim past its carrier response deadline."""
    overdue = list(
        Claim.objects.filter(status=Claim.Status.OPEN, deadline_at__lte=timezone.now()).values_list("pk", flat=True)[:1000]
    )
    for pk in overdue:
        claim_auto_accept.delay(pk)
    return len(overdue)
