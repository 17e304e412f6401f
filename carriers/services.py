"""Writes about carriers: API tokens (create, revoke, rotate), webhook secrets and raising webhook events."""
from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yinzunda.dispatch import task_enqueue_on_commit, tasks_enqueue_many_on_commit

from . import webhooks
from .errors import CarrierNotReady, WebhookNotConfigured
from .models import (
    Carrier,
    CarrierToken,
    IdempotencyRecord,
    Tariff,
    TariffPayout,
    WebhookDelivery,
    WebhookSequence,
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


WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks marker, not a secret


def webhook_secret_generate() -> str:
    """`whsec_` + base64 of 32 random bytes: the format Standard Webhooks libraries take as is."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def carrier_webhook_prepare(*, carrier: Carrier) -> str | None:
    """Before saving a carrier whose URL was edited: a URL always has a generated secret.

    Returns the new secret (to show once) when one had to be generated. A changed URL starts
    with a clean failure record."""
    new_secret = None
    if carrier.webhook_url and not carrier.webhook_secret:
        new_secret = carrier.webhook_secret = webhook_secret_generate()
    if carrier.pk:
        old_url = Carrier.objects.filter(pk=carrier.pk).values_list("webhook_url", flat=True).first()
        if old_url != carrier.webhook_url:
            carrier.webhook_failure_streak, carrier.webhook_failing_since = 0, None
    return new_secret


@transaction.atomic
def carrier_webhook_secret_rotate(*, carrier: Carrier, overlap: timedelta | None = None) -> str:
    """A new secret, returned once; the old one keeps signing beside it for `overlap` (24 h by default)."""
    carrier = Carrier.objects.select_for_update(no_key=True).get(pk=carrier.pk)
    overlap = settings.YINZUNDA_WEBHOOK_SECRET_OVERLAP if overlap is None else overlap
    if carrier.webhook_secret:
        carrier.webhook_secret_previous = carrier.webhook_secret
        carrier.webhook_secret_previous_until = timezone.now() + overlap
    carrier.webhook_secret = webhook_secret_generate()
    carrier.save(update_fields=["webhook_secret", "webhook_secret_previous", "webhook_secret_previous_until"])
    return carrier.webhook_secret


class _PayloadEncoder(json.JSONEncoder):
    """Times as in the API (Asia/Shanghai, +08:00), money and ids as strings."""

    def default(self, o):
        if isinstance(o, datetime):
            return timezone.localtime(o).isoformat() if timezone.is_aware(o) else o.isoformat()
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, Decimal | uuid.UUID):
            return str(o)
        return super().default(o)


def _webhook_sequence_next(carrier_id: int, count: int = 1) -> tuple[int, str]:
    """The last of the carrier's next `count` sequences and its current URL, in one round trip.

    The upsert locks the counter row until commit, so a carrier's events commit in sequence
    order and a catch-up by sequence never skips a late commit."""
    if connection.vendor != "postgresql":  # SQLite (`make run`): one writer at a time anyway
        WebhookSequence.objects.get_or_create(carrier_id=carrier_id)
        WebhookSequence.objects.filter(carrier_id=carrier_id).update(last=F("last") + count)
        last = WebhookSequence.objects.values_list("last", flat=True).get(carrier_id=carrier_id)
        return last, Carrier.objects.values_list("webhook_url", flat=True).get(pk=carrier_id)
    table, carriers = WebhookSequence._meta.db_table, Carrier._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH next AS (INSERT INTO {table} (carrier_id, last) VALUES (%s, %s) "  # noqa: S608 - table names from the models
            f"ON CONFLICT (carrier_id) DO UPDATE SET last = {table}.last + %s RETURNING last) "
            f"SELECT next.last, c.webhook_url FROM next, {carriers} c WHERE c.id = %s",
            [carrier_id, count, count, carrier_id],
        )
        return cursor.fetchone()


def _webhook_delivery(*, carrier: Carrier, event_type: str, payload: dict, sequence: int, url: str, now) -> WebhookDelivery:
    event_id = f"evt_{uuid.uuid4().hex}"
    envelope = {
        "event_id": event_id,
        "type": event_type,
        "sequence": sequence,
        "created_at": now,
        "livemode": not carrier.is_sandbox,  # false for a sandbox twin's events (carriers.sandbox)
        "data": payload,
    }
    return WebhookDelivery(
        carrier=carrier,
        event_id=event_id,
        sequence=sequence,
        event_type=event_type,
        payload=json.loads(json.dumps(envelope, cls=_PayloadEncoder)),
        status=WebhookDelivery.Status.PENDING if url else WebhookDelivery.Status.NO_ENDPOINT,
        next_attempt_at=now if url else None,
        retry_until=now + settings.YINZUNDA_WEBHOOK_RETRY_WINDOW,
        created_at=now,
    )


@transaction.atomic(savepoint=False)  # no savepoint round trips inside the caller's transaction
def webhook_enqueue(*, carrier: Carrier, event_type: str, payload: dict) -> WebhookDelivery:
    """Raise a webhook event for the carrier: the one call for every event type.

    The event is always recorded (with the carrier's next `sequence`), so the carrier can catch
    up through `GET /api/v1/carrier/webhook-events`; it is sent after commit only when the carrier
    has a URL registered. `payload` becomes the body's `data`; datetimes in it are written in
    +08:00 and Decimals as strings."""
    (delivery,) = webhooks_enqueue_many(items=[(carrier, event_type, payload)])
    return delivery


@transaction.atomic(savepoint=False)
def webhooks_enqueue_many(*, items: list[tuple[Carrier, str, dict]]) -> list[WebhookDelivery]:
    """webhook_enqueue for many events at once: per carrier one sequence reservation (in the
    items' order), one INSERT of the deliveries and one of their outbox rows."""
    for _carrier, event_type, _payload in items:
        if event_type not in WebhookDelivery.EventType.values:
            raise ValueError(f"unknown webhook event type {event_type!r}")
    now = timezone.now()
    by_carrier: dict[int, list[int]] = {}
    for index, (carrier, _kind, _payload) in enumerate(items):
        by_carrier.setdefault(carrier.pk, []).append(index)
    deliveries: list[WebhookDelivery | None] = [None] * len(items)
    urls: dict[int, str] = {}
    for carrier_id in sorted(by_carrier):  # one lock order for every caller: no deadlock between two
        indexes = by_carrier[carrier_id]
        last, urls[carrier_id] = _webhook_sequence_next(carrier_id, len(indexes))
        for offset, index in enumerate(indexes):
            carrier, kind, payload = items[index]
            deliveries[index] = _webhook_delivery(
                carrier=carrier, event_type=kind, payload=payload, sequence=last - len(indexes) + 1 + offset,
                url=urls[carrier_id], now=now,
            )
    created = WebhookDelivery.objects.bulk_create(deliveries)
    tasks_enqueue_many_on_commit(
        "carriers.tasks.webhook_deliver", [(d.pk,) for d in created if urls[d.carrier_id]]
    )
    return created


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same event_id, fresh retry window), e.g. after the carrier fixed its endpoint."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempt_count = 0
    delivery.next_attempt_at = now
    delivery.claimed_until = None
    delivery.retry_until = now + settings.YINZUNDA_WEBHOOK_RETRY_WINDOW
    delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "claimed_until", "retry_until"])
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
    result = webhooks.post_signed(
        url=carrier.webhook_url, secrets=carrier.webhook_signing_secrets(), event_id=payload["event_id"], payload=payload
    )
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
