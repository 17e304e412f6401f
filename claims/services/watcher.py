"""The promise watcher: every breach of DESIGN §3a in the data becomes one claim per (waybill,
promise), with no complaint needed, set-based.

It runs on ingest (the scans' waybills) and in the beat sweep (the parcels whose next clock
ran out). The unique constraint on (waybill, promise) makes re-runs and races harmless: a
breach already claimed (by the watcher or a buyer's complaint) is skipped by ON CONFLICT DO NOTHING. A later
scan showing the promise was kept never closes a claim: the carrier disputes with it.
"""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from carriers.models import Carrier, Tariff
from carriers.services import webhooks_enqueue_many
from waybills.models import TrackingEvent, Waybill
from waybills.promises import breach_state, rule_message
from yinzunda.dispatch import tasks_enqueue_many_on_commit
from yinzunda.texts import Message, message, render_platform

from ..models import Claim, ClaimTransition
from ..selectors.breaches import Breach, breaches_due_waybill_ids, breaches_find, breaches_sql
from ..selectors.webhook_payloads import claim_webhook_payloads
from .claims import claim_open
from .notifications import notifications_create_many
from .promise_due import promises_due_refresh

# A run that opens more claims than this announces them through outbox tasks of this many each.
ANNOUNCE_INLINE = 1000

_INSERT_SQL = """
INSERT INTO claims_claim
    (complaint_id, trigger, source_event_id, waybill_id, carrier_id, merchant_id, order_id, complaint_type,
     promise, breach, tariff_id, amount, status, deadline_at, opened_at, updated_at, resolved_at, settlement_id)
SELECT NULL, 'tracking', b.start_ev, b.waybill_id, b.carrier_id, b.merchant_id, b.order_id, b.complaint_type,
       b.promise,
       jsonb_build_object(
           'rule', b.rule, 'started_at', b.started_at, 'due_at', b.due_at, 'ended_at', b.ended_at,
           'clock_hours', b.clock_hours, 'source_event_id', b.start_ev, 'end_event_id', b.end_ev,
           'method', b.method, 'carrier_consent', b.carrier_consent, 'observed_at', %(now)s::timestamptz),
       b.tariff_id, b.amount, 'open', %(now)s::timestamptz + make_interval(hours => c.response_deadline_hours),
       %(now)s, %(now)s, NULL, NULL
FROM ({breaches}) b JOIN carriers_carrier c ON c.id = b.carrier_id
ORDER BY b.waybill_id, b.promise
ON CONFLICT DO NOTHING
RETURNING id
"""  # noqa: S608 - the breaches statement is our own constant text


def promises_watch(*, waybill_ids: list[int] | None = None, now: datetime | None = None) -> list[int]:
    """Open a claim for every unclaimed breach of these waybills (None: the sweep).

    On PostgreSQL the sweep judges the parcels whose next clock has run out
    (`Waybill.promise_due_at`, kept by every run here); elsewhere every parcel in flight.

    Returns the ids of the claims opened by this run (empty when everything was claimed already).
    """
    if not settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING:
        return []
    if waybill_ids is not None and not waybill_ids:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            if waybill_ids is None:  # the sweep: only the parcels whose next clock has run out
                waybill_ids = breaches_due_waybill_ids(now=now)
                if not waybill_ids:
                    return []
            sql, params = breaches_sql(waybill_ids=waybill_ids)
            with connection.cursor() as cursor:
                cursor.execute(_INSERT_SQL.replace("{breaches}", sql), {**params, "now": now})
                opened = [row[0] for row in cursor.fetchall()]
            promises_due_refresh(waybill_ids=waybill_ids, now=now)
        else:
            opened = _watch_portable(breaches=breaches_find(now=now, waybill_ids=waybill_ids), now=now)
        if opened:
            _claims_audit(claim_ids=opened, now=now)
            if len(opened) <= ANNOUNCE_INLINE:
                claims_announce(claim_ids=opened)
            else:  # a sweep that found many: carriers and merchants are told by outbox tasks
                tasks_enqueue_many_on_commit(
                    "claims.tasks.claims_announce",
                    [(opened[i:i + ANNOUNCE_INLINE],) for i in range(0, len(opened), ANNOUNCE_INLINE)],
                )
    return opened


def _watch_portable(*, breaches: list[Breach], now: datetime) -> list[int]:
    """SQLite: one claim_open per breach, each in a savepoint so a claimed (waybill, promise) is skipped."""
    opened = []
    claimed = set(
        Claim.objects.filter(waybill_id__in={b.waybill_id for b in breaches}).exclude(promise="")
        .values_list("waybill_id", "promise")
    )
    for breach in breaches:
        if (breach.waybill_id, breach.promise) in claimed:
            continue
        waybill = Waybill.objects.select_related("carrier", "order").get(pk=breach.waybill_id)
        record = {
            "rule": breach.rule, "started_at": breach.started_at.isoformat(), "due_at": breach.due_at.isoformat(),
            "ended_at": breach.ended_at.isoformat() if breach.ended_at else None,
            "clock_hours": breach.clock_hours, "source_event_id": breach.source_event_id,
            "end_event_id": breach.end_event_id, "method": breach.method,
            "carrier_consent": breach.carrier_consent, "observed_at": now.isoformat(),
        }
        try:
            with transaction.atomic():
                claim = claim_open(
                    reason=breach_reason_message(record),
                    waybill=waybill, complaint_type=breach.complaint_type, tariff=Tariff.objects.get(pk=breach.tariff_id),
                    amount=breach.amount, source_event=TrackingEvent.objects.get(pk=breach.source_event_id),
                    promise=breach.promise, breach=record, now=now, announce=False,
                )
        except IntegrityError:
            continue
        opened.append(claim.pk)
    return opened


def breach_reason_message(record: dict) -> Message:
    """The audit reason of a claim the watcher opened: stored as a message, worded for each reader."""
    state = breach_state(record)
    return message(gettext_noop("%(clock)s；系统根据物流轨迹自动索赔"), clock=rule_message(state) if state else "")


def _claims_audit(*, claim_ids: list[int], now: datetime) -> None:
    """The opened claims' audit rows (DESIGN §5: every state change has one), in the claims' transaction."""
    if connection.vendor != "postgresql":
        return  # the portable path wrote each with claim_open
    rows = Claim.objects.filter(pk__in=claim_ids).values_list("pk", "breach").order_by("pk")
    messages = {pk: breach_reason_message(breach) for pk, breach in rows}
    ClaimTransition.objects.bulk_create([
        ClaimTransition(
            claim_id=pk, from_status="", to_status=Claim.Status.OPEN, actor=ClaimTransition.Actor.SYSTEM,
            reason=render_platform(messages[pk]), reason_msg=messages[pk], evidence=[{"kind": "breach", **breach}],
            created_at=now,
        )
        for pk, breach in rows
    ])


def claims_announce(*, claim_ids: list[int]) -> int:
    """The opened claims' webhooks (claim.opened) and inbox entries: one INSERT each for all.

    Run in the watcher's transaction for a few claims, or as outbox tasks (exactly once) when
    a sweep opened many. Returns how many claims were announced."""
    claims = list(
        Claim.objects.filter(pk__in=claim_ids).select_related("carrier", "order", "waybill", "complaint").order_by("pk")
    )
    reasons = {claim.pk: breach_reason_message(claim.breach) for claim in claims}
    carriers: dict[int, Carrier] = {}
    payloads = claim_webhook_payloads(claims)
    webhooks_enqueue_many(items=[
        (carriers.setdefault(claim.carrier_id, claim.carrier), "claim.opened", payloads[claim.pk]) for claim in claims
    ])
    notifications_create_many(items=[
        {
            "merchant_id": claim.merchant_id, "claim": claim,
            "title": gettext_noop("已向%(carrier)s发起索赔 ¥%(amount)s（订单 %(order)s）"),
            "params": {"carrier": claim.carrier.name, "amount": claim.amount, "order": claim.order.order_number},
            "body_message": reasons[claim.pk],
        }
        for claim in claims
    ])
    return len(claims)
