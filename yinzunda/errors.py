"""The one base of every business-rule refusal; each app raises its own subclasses from its errors.py.

The carrier API (`carriers/api/exceptions.py`) and the pages map a `DomainError` to an answer
once, by its `http_status` and `code`.
"""
from __future__ import annotations


class DomainError(Exception):
    """A refusal by a business rule. `code` is stable and machine-readable."""

    code = "domain_error"
    http_status = 409

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist for this caller (another party's object is "not found" too)."""

    code = "not_found"
    http_status = 404
