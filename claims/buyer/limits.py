"""Limits on proving an order (4 digits are only 10,000 guesses), with atomic counters.

Only wrong answers count (a right answer gives its attempt back), and each attempt is counted
before the digits are checked, so parallel guesses are counted too. Three counters:
- one client on one order (the order number and its waybill number are the same order):
  5 wrong answers, then that client waits out the hour;
- one order from everyone: 10 wrong answers in 10 minutes, then a short wait for everyone —
  a stranger's guesses never lock the real buyer out for an hour, and a crowd of addresses
  gets at most 60 guesses an hour on one order;
- one client over all orders: 20 wrong answers an hour.
The client is `yinzunda.clientip.client_ip` (a trusted proxy's header, else the socket).
"""
from __future__ import annotations

from dataclasses import dataclass

from yinzunda.ratelimit import rate_hit, rate_undo

PER_ORDER_CLIENT = (5, 3600)
PER_ORDER = (10, 600)
PER_CLIENT = (20, 3600)


@dataclass(frozen=True)
class Attempt:
    allowed: bool
    retry_after: int = 0  # seconds, when refused
    keys: tuple[tuple[str, int], ...] = ()  # (key, window) counted, given back on success


def lookup_subject(*, order_id: int | None, number: str) -> str:
    """Both number forms of an order count against that order; an unknown number stands alone."""
    return f"order:{order_id}" if order_id is not None else f"number:{number.strip().upper()}"


def lookup_attempt(*, client: str, subject: str) -> Attempt:
    """Count one attempt against the client, then the client on this order, then the order.

    A refusal stops before the wider counters, so a locked-out stranger's further tries never
    add to the order's shared count.
    """
    counted: list[tuple[str, int]] = []
    for key, (limit, window) in (
        (f"buyer-lookup:client:{client}", PER_CLIENT),
        (f"buyer-lookup:{subject}:client:{client}", PER_ORDER_CLIENT),
        (f"buyer-lookup:{subject}", PER_ORDER),
    ):
        hit = rate_hit(key, limit=limit, window=window)
        if not hit.allowed:
            if key == f"buyer-lookup:{subject}":
                rate_undo(key, window=window)  # a refused try does not extend everyone's wait
            return Attempt(False, hit.retry_after, tuple(counted))
        counted.append((key, window))
    return Attempt(True, 0, tuple(counted))


def lookup_succeeded(attempt: Attempt) -> None:
    """The right digits: the attempt is given back on every counter."""
    for key, window in attempt.keys:
        rate_undo(key, window=window)
