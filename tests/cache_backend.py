"""The test cache: Redis like production, but `clear()` deletes only this checkout's keys.

Django's RedisCache.clear() is FLUSHDB: one suite clearing its cache would wipe the counters
of another suite running on the same machine at the same moment.
"""
from __future__ import annotations

from yinzunda.cache import ResilientRedisCache


class CheckoutRedisCache(ResilientRedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        pattern = self.make_key("*")
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True
