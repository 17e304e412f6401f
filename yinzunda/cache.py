"""A Redis cache that degrades: while Redis is away every read is a miss and every write a no-op.

After a failure the cache stops asking Redis for `RETRY_SECONDS`, so a page never pays a
connection timeout per cache call during an outage. `redis_client()` hands the raw client to
the rate limiter (atomic INCR), or None while Redis is known to be down.
"""
from __future__ import annotations

import logging
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("yinzunda.cache")
RETRY_SECONDS = 2.0
_down_until = 0.0


def redis_available() -> bool:
    return time.monotonic() >= _down_until


def redis_failed(exc: Exception) -> None:
    global _down_until
    if redis_available():
        logger.warning("Redis unavailable (%s: %s): cache misses and database-backed limits for now",
                       exc.__class__.__name__, exc)
    _down_until = time.monotonic() + RETRY_SECONDS


def redis_reset() -> None:
    """Forget a recorded outage (tests, or after an operator fixed Redis)."""
    global _down_until
    _down_until = 0.0


def _degrading(method: str, miss):
    def call(self, *args, **kwargs):
        if not redis_available():
            return miss(*args, **kwargs) if callable(miss) else miss
        try:
            return getattr(super(ResilientRedisCache, self), method)(*args, **kwargs)
        except Exception as exc:  # redis.exceptions.ConnectionError, TimeoutError, OSError...
            redis_failed(exc)
            return miss(*args, **kwargs) if callable(miss) else miss

    call.__name__ = method
    return call


def _default(key, default=None, version=None):
    return default


class ResilientRedisCache(RedisCache):
    get = _degrading("get", _default)
    get_many = _degrading("get_many", lambda *a, **k: {})
    has_key = _degrading("has_key", False)
    add = _degrading("add", False)
    set = _degrading("set", None)
    set_many = _degrading("set_many", lambda data, *a, **k: list(data))
    touch = _degrading("touch", False)
    delete = _degrading("delete", False)
    delete_many = _degrading("delete_many", None)
    clear = _degrading("clear", False)

    def raw_client(self, key: str):
        """The redis-py client that holds `key` (for INCR), or None while Redis is down."""
        if not redis_available():
            return None
        return self._cache.get_client(key, write=True)


def redis_configured() -> bool:
    return isinstance(caches["default"], RedisCache)


def redis_client(key: str):
    """The default cache's redis-py client for `key`, None when the cache is not Redis or is down."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    if isinstance(backend, ResilientRedisCache):
        return backend.raw_client(key)
    return backend._cache.get_client(key, write=True) if redis_available() else None


def cache_key(key: str) -> str:
    return cache.make_key(key)
