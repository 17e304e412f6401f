"""Atomic fixed-window counters for limits that must hold under concurrency and without Redis.

`rate_hit(key, limit=, window=)` counts one hit and says whether it is within the limit. The
count is atomic wherever it is kept: Redis `INCR` (+ `EXPIRE`) in one round trip; while Redis
is away, the database (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`), which every process
shares; if the database is unreachable too, a per-process counter (the limit then holds per
process). With no Redis configured at all (a first run), the local cache's atomic incr. Sixteen parallel clients cannot pass more than `limit` hits in one window.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction

from .cache import cache_key, redis_client, redis_configured, redis_failed

logger = logging.getLogger("yinzunda.ratelimit")
_local: dict[tuple[str, int], int] = {}
_local_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    count: int
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


def _window(window: int, now: float | None = None) -> tuple[int, int]:
    now = time.time() if now is None else now
    start = int(now // window * window)
    return start, max(math.ceil(start + window - now), 1)


def rate_hit(key: str, *, limit: int, window: int, amount: int = 1) -> Hit:
    start, retry_after = _window(window)
    if not redis_configured():  # no Redis at all (first run, a local cache): the cache's own atomic incr
        return Hit(count=_cache_add(key, start, window, amount), limit=limit, retry_after=retry_after)
    count = _redis_add(key, start, window, amount)
    if count is None:
        count = _db_add(key, start, window, amount)
    if count is None:
        count = _local_add(key, start, amount)
    return Hit(count=count, limit=limit, retry_after=retry_after)


def rate_undo(key: str, *, window: int) -> None:
    """Give one hit of the current window back (a lookup that proved the order)."""
    rate_hit(key, limit=0, window=window, amount=-1)


def rate_count(key: str, *, window: int) -> int:
    """Hits so far in the current window (no hit counted)."""
    return rate_hit(key, limit=0, window=window, amount=0).count


def _cache_add(key: str, start: int, window: int, amount: int) -> int:
    name = f"rl:{key}:{start}"
    cache.add(name, 0, window + 5)
    try:
        return cache.incr(name, amount) if amount else cache.get(name, 0)
    except ValueError:  # expired between add and incr
        cache.set(name, amount, window + 5)
        return amount


def _redis_add(key: str, start: int, window: int, amount: int) -> int | None:
    name = cache_key(f"rl:{key}:{start}")
    client = redis_client(name)
    if client is None:
        return None
    try:
        pipe = client.pipeline(transaction=True)
        pipe.incrby(name, amount)
        pipe.expire(name, window + 5)
        count, _ = pipe.execute()
        return int(count)
    except Exception as exc:
        redis_failed(exc)
        return None


_UPSERT = """
INSERT INTO yinzunda_ratecounter (key, window_start, count, expires_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (key, window_start) DO UPDATE SET count = yinzunda_ratecounter.count + EXCLUDED.count
RETURNING count
"""


def _db_add(key: str, start: int, window: int, amount: int) -> int | None:
    expires = datetime.fromtimestamp(start + window, tz=UTC) + timedelta(seconds=5)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_UPSERT, [key[:200], start, amount, expires])
            return int(cursor.fetchone()[0])
    except DatabaseError:
        logger.warning("rate counter %s: database unavailable, counting in this process", key)
        return None


def _local_add(key: str, start: int, amount: int) -> int:
    with _local_lock:
        for stale in [k for k in _local if k[1] < start]:
            del _local[stale]
        _local[(key, start)] = _local.get((key, start), 0) + amount
        return _local[(key, start)]
