"""All outbound HTTP of the portal goes through this module: signed webhook POSTs to carriers."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import requests
from django.conf import settings

SIGNATURE_HEADER = "X-Yinzunda-Signature"


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` as in the carrier contract."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(*, secret: str, body: bytes, header: str, tolerance_seconds: int = 300, now: int | None = None) -> bool:
    """What a carrier does on receipt (documented, and used by our tests)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret=secret, body=body, timestamp=timestamp), header)


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_signed(*, url: str, secret: str, payload: dict) -> PostResult:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret=secret, body=body, timestamp=int(time.time())),
        "User-Agent": "Yinzunda-Webhooks/1.0",
    }
    started = time.monotonic()
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=settings.YINZUNDA_WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,  # a redirect is a misconfigured endpoint, not a delivery
        )
    except requests.RequestException as exc:
        return PostResult(None, f"{type(exc).__name__}: {exc}"[:1000], int((time.monotonic() - started) * 1000))
    return PostResult(response.status_code, "" if response.ok else response.text[:1000], int((time.monotonic() - started) * 1000))
