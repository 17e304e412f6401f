"""Refusals of the waybills domain."""
from __future__ import annotations

from yinzunda.errors import DomainError


class ConsentInvalid(DomainError):
    """A consent record that cannot be recorded as asked (bad method, past expiry...)."""

    code = "consent_invalid"
    http_status = 422
