"""Webhook bodies and signatures, and the one POST to a carrier (through `outbound`).

Two signatures of the same bytes, so a carrier verifies with whichever library it has:
- `X-Yinzunda-Signature: t=<unix>,v1=<hex>` with hex = HMAC-SHA256(secret, "<t>." + body), the
  secret string used as is (Stripe's scheme: `stripe.WebhookSignature.verify_header` checks it);
- the Standard Webhooks headers `webhook-id`, `webhook-timestamp`, `webhook-signature`, keyed
  with the base64 bytes after `whsec_` (what the `standardwebhooks` libraries do).
During a secret rotation both secrets sign: two `v1=` entries and two `v1,` signatures.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from standardwebhooks.webhooks import Webhook

from . import outbound

SIGNATURE_HEADER = "X-Yinzunda-Signature"
USER_AGENT = "Yinzunda-Webhooks/1.1"


def body_encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>` as in the carrier contract."""
    return f"t={timestamp},v1={_hex_mac(secret, body, timestamp)}"


def _hex_mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_headers(*, secrets: list[str], event_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Every signature header, one signature per live secret (current first)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode()
    return {
        SIGNATURE_HEADER: f"t={timestamp}," + ",".join(f"v1={_hex_mac(s, body, timestamp)}" for s in secrets),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(Webhook(s).sign(event_id, moment, text) for s in secrets),
    }


def verify(*, secret: str, body: bytes, header: str, tolerance_seconds: int = 300, now: int | None = None) -> bool:
    """What a carrier does on receipt of `X-Yinzunda-Signature` (documented, used by our tests)."""
    try:
        items = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(value for key, value in items if key == "t"))
        candidates = [value for key, value in items if key == "v1"]
    except (ValueError, StopIteration):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = _hex_mac(secret, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str  # the failure, or a short excerpt of a non-2xx answer's body
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_signed(*, url: str, secrets: list[str], event_id: str, payload: dict) -> PostResult:
    """One signed POST, bounded by YINZUNDA_WEBHOOK_DEADLINE_SECONDS from connect to last byte."""
    body = body_encode(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(secrets=secrets, event_id=event_id, body=body, timestamp=int(time.time())),
    }
    answer = outbound.post(
        url=url, body=body, headers=headers, deadline_seconds=settings.YINZUNDA_WEBHOOK_DEADLINE_SECONDS
    )
    return PostResult(answer.status_code, answer.error or answer.excerpt, answer.duration_ms)
