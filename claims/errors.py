"""Domain errors of complaints, claims and settlements."""
from __future__ import annotations

from yinzunda.errors import DomainError


class ClaimTransitionNotAllowed(DomainError):
    code = "claim_transition_not_allowed"


class SettlementAlreadyPaid(DomainError):
    code = "settlement_already_paid"


class PaymentAmountMismatch(DomainError):
    code = "payment_amount_mismatch"
    http_status = 422


class ComplaintTokenReused(DomainError):
    code = "complaint_token_reused"
    http_status = 409


class LedgerOutOfBalance(DomainError):
    """The ledger disagrees with the claims, purchases or settlements it records."""

    code = "ledger_out_of_balance"
    http_status = 500


class PhotoInvalid(DomainError):
    """An uploaded photo that cannot be decoded as a JPEG, PNG or WebP image."""

    code = "photo_invalid"
    http_status = 400


class AfterSalesNotAllowed(DomainError):
    code = "aftersales_not_allowed"
    http_status = 409


class ClaimAnswerNotAllowed(DomainError):
    code = "claim_answer_not_allowed"
    http_status = 409
