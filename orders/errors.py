"""Domain errors of orders and Yinzunda purchases."""
from __future__ import annotations

from yinzunda.errors import DomainError


class PurchaseRefused(DomainError):
    code = "purchase_refused"
    http_status = 422


class ShipmentRefused(DomainError):
    code = "shipment_refused"
    http_status = 422
