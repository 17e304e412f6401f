"""`Idempotency-Key` for state-changing carrier requests: the first answer is kept and replayed.

The key is claimed by inserting its record first (the unique constraint arbitrates races):
a second request with the same key and body replays the stored answer, with another body
it is a 422, and while the first is still running it is a 409.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from carriers.models import Carrier, IdempotencyRecord
from yinzunda.errors import DomainError

from .exceptions import error_body

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# A request still "in flight" after this long died with its process; its key may be reused.
STALE_IN_FLIGHT = timedelta(minutes=2)


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422


class IdempotencyRequestInFlight(DomainError):
    code = "idempotency_request_in_flight"
    http_status = 409


def idempotency_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_KEY_LENGTH) or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError({HEADER: [_("应为 1–255 个可见 ASCII 字符。")]})
    return key


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


# A body that cannot be read differs from every body that can (its key was used for one: 422).
_UNREADABLE = "\x00unreadable"


def _record_claim(*, carrier: Carrier, key: str, request, fingerprint: str) -> tuple[IdempotencyRecord | None, Response | None]:
    now = timezone.now()
    fields = {"method": request.method, "path": request.path[:255], "request_hash": fingerprint}
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(carrier=carrier, key=key, created_at=now, **fields), None
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(carrier=carrier, key=key).first()
    if existing is None:  # purged between our insert and this read
        raise IdempotencyRequestInFlight(_("同一幂等键的请求正在处理中，请稍后重试。"), field=HEADER)
    expired = existing.created_at < now - settings.YINZUNDA_IDEMPOTENCY_TTL
    stale = existing.response_status is None and existing.created_at < now - STALE_IN_FLIGHT
    if expired or (stale and existing.request_hash == fingerprint):
        # Take the key over; the conditional update lets only one concurrent taker win.
        taken = IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).update(
            created_at=now, response_status=None, response_body=None, **fields
        )
        if taken:
            existing.refresh_from_db()
            return existing, None
        raise IdempotencyRequestInFlight(_("同一幂等键的请求正在处理中，请稍后重试。"), field=HEADER)
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(_("该幂等键已用于另一个请求（路径或请求体不同）。"), field=HEADER)
    if existing.response_status is None:
        raise IdempotencyRequestInFlight(_("同一幂等键的请求正在处理中，请稍后重试。"), field=HEADER)
    return None, Response(existing.response_body, status=existing.response_status, headers={REPLAY_HEADER: "true"})


def idempotent(request, *, carrier: Carrier, action: Callable[[], Response]) -> Response:
    """Run `action` (a state change) at most once per Idempotency-Key.

    `action` validates its input itself: the key is looked at first, so a reused key with
    another, invalid body is the 422 of the contract (DESIGN §6), not a 400 about the body.
    A 400 does not burn the key: its record is dropped and the error re-raised.
    """
    key = idempotency_key(request)
    if key is None:
        return action()
    unreadable = None
    try:
        fingerprint = request_fingerprint(request)
    except (exceptions.ParseError, exceptions.UnsupportedMediaType) as exc:
        unreadable = exc
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n{_UNREADABLE}".encode()).hexdigest()
    record, replay = _record_claim(carrier=carrier, key=key, request=request, fingerprint=fingerprint)
    if replay is not None:
        return replay
    if unreadable is not None:
        IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
        raise unreadable
    try:
        with transaction.atomic():
            response = action()
            _record_store(record, response.status_code, response.data)
            return response
    except DomainError as exc:
        # A refusal of the business (404, 409...) is an answer too: it is replayed as given.
        fields = {exc.field: [exc.message]} if exc.field else {}
        response = Response(error_body(exc.code, exc.message, fields), status=exc.http_status)
        _record_store(record, response.status_code, response.data)
        return response
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
        raise


def _record_store(record: IdempotencyRecord, status_code: int, body) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=status_code, response_body=json.loads(json.dumps(body, default=str))
    )
