"""Domain errors of claims and settlements; the API maps them once to HTTP status codes."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every business-rule refusal. `code` is stable and machine-readable."""

    code = "domain_error"
    http_status = 409

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class ClaimTransitionNotAllowed(DomainError):
    code = "claim_transition_not_allowed"


class SettlementAlreadyPaid(DomainError):
    code = "settlement_already_paid"


class PaymentAmountMismatch(DomainError):
    code = "payment_amount_mismatch"
    http_status = 422


class PurchaseRefused(DomainError):
    code = "purchase_refused"
    http_status = 422


class ComplaintTokenReused(DomainError):
    code = "complaint_token_reused"
    http_status = 409
