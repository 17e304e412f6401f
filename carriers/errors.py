"""Domain errors of carriers: onboarding and webhook endpoints."""
from __future__ import annotations

from yinzunda.errors import DomainError


class WebhookNotConfigured(DomainError):
    code = "webhook_not_configured"
    http_status = 422


class CarrierNotReady(DomainError):
    code = "carrier_not_ready"
    http_status = 409
