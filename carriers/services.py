"""Writes about carriers: API tokens (create, revoke, rotate) and queuing webhooks."""
from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yinzunda.dispatch import task_enqueue_on_commit

from . import webhooks
from .errors import CarrierNotReady, WebhookNotConfigured
from .models import (
    Carrier,
    CarrierToken,
    IdempotencyRecord,
    Tariff,
    TariffPayout,
    WebhookDelivery,
    hash_token,
)

TOKEN_PREFIX = "yzd_"  # noqa: S105 - a public marker, not a secret


def carrier_token_create(*, carrier: Carrier, name: str = "") -> tuple[CarrierToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = CarrierToken.objects.create(carrier=carrier, name=name, prefix=raw[:12], key_hash=hash_token(raw))
    return token, raw


def carrier_token_revoke(*, token: CarrierToken) -> CarrierToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def carrier_token_rotate(*, token: CarrierToken) -> tuple[CarrierToken, str]:
    """Revoke this token and issue its replacement in one step."""
    carrier_token_revoke(token=token)
    return carrier_token_create(carrier=token.carrier, name=token.name)


def carrier_tokens_revoke_all(*, carrier: Carrier) -> int:
    """Revoke every live token of the carrier; the number revoked."""
    count = 0
    for token in carrier.tokens.filter(revoked_at__isnull=True):
        carrier_token_revoke(token=token)
        count += 1
    return count


@transaction.atomic
def carrier_tokens_rotate_all(*, carrier: Carrier, name: str = "") -> tuple[CarrierToken, str]:
    """Revoke every live token of the carrier and issue one replacement, in one step."""
    carrier_tokens_revoke_all(carrier=carrier)
    return carrier_token_create(carrier=carrier, name=name)


def webhook_enqueue(*, carrier: Carrier, event_type: str, payload: dict) -> WebhookDelivery | None:
    """Record a webhook for the carrier and send it after commit; none if no URL is registered."""
    if not carrier.webhook_url:
        return None
    event_id = f"evt_{uuid.uuid4().hex}"
    delivery = WebhookDelivery.objects.create(
        carrier=carrier,
        event_id=event_id,
        event_type=event_type,
        payload={"event_id": event_id, "type": event_type, "created_at": timezone.now().isoformat(), "data": payload},
        next_attempt_at=timezone.now(),
    )
    task_enqueue_on_commit("carriers.tasks.webhook_deliver", delivery.pk)
    return delivery


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same event_id, fresh retry budget), e.g. after the carrier fixed its endpoint."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempt_count = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempt_count", "next_attempt_at"])
    task_enqueue_on_commit("carriers.tasks.webhook_deliver", delivery.pk)
    return delivery


def idempotency_records_purge(*, now=None) -> int:
    """Forget Idempotency-Key answers older than the replay window (24 h by default)."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - settings.YINZUNDA_IDEMPOTENCY_TTL).delete()
    return deleted


@transaction.atomic
def tariff_version_create(*, tariff: Tariff, effective_from=None) -> Tariff:
    """The next version of a carrier's tariff, a copy of `tariff` (fees, payouts, every other
    setting) effective from `effective_from` (default: now). Claims keep the version they were
    opened under; the new one applies to purchases and claims from its effective time."""
    Carrier.objects.select_for_update().get(pk=tariff.carrier_id)  # versions of one carrier in turn
    latest = Tariff.objects.filter(carrier_id=tariff.carrier_id).order_by("-version").first()
    copied = {
        f.name: getattr(tariff, f.name)
        for f in Tariff._meta.concrete_fields
        if f.name not in {"id", "version", "effective_from", "created_at"}
    }
    new = Tariff.objects.create(
        **copied, version=latest.version + 1, effective_from=effective_from or timezone.now(), created_at=timezone.now()
    )
    TariffPayout.objects.bulk_create(
        [TariffPayout(tariff=new, complaint_type=p.complaint_type, amount=p.amount) for p in tariff.payouts.all()]
    )
    return new


def webhook_ping(*, carrier: Carrier) -> webhooks.PostResult:
    """Send the carrier's endpoint a signed `ping` now (no transaction is open: the operator waits
    for the answer) and record the URL as verified when it answers 2xx."""
    if not carrier.webhook_url:
        raise WebhookNotConfigured(_("尚未填写回调地址"), field="webhook_url")
    payload = {
        "event_id": f"evt_ping_{uuid.uuid4().hex}", "type": "ping",
        "created_at": timezone.localtime().isoformat(), "data": {"carrier": carrier.code},
    }
    result = webhooks.post_signed(url=carrier.webhook_url, secret=carrier.webhook_secret, payload=payload)
    if result.ok:
        Carrier.objects.filter(pk=carrier.pk).update(
            webhook_verified_at=timezone.now(), webhook_verified_url=carrier.webhook_url
        )
    return result


def carrier_go_live(*, carrier: Carrier, ready: bool) -> Carrier:
    """Make the carrier a Yinzunda partner; only when its onboarding checklist is all green."""
    if not ready:
        raise CarrierNotReady(_("上线检查清单尚未全部通过"), field="checklist")
    carrier.is_partner = True
    carrier.live_since = carrier.live_since or timezone.now()
    carrier.save(update_fields=["is_partner", "live_since"])  # through save(): the config history records it
    return carrier
