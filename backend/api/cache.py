"""Redis cache-aside for API responses, keyed on the gold version.

Keys are ``nova:api:<gold version>:<route>:<digest of the query>``: a new pipeline run
publishes a new gold version, so every later request misses and old keys simply expire
(their TTL) - no ``KEYS`` scan or pattern delete. A cold key is loaded once per process
(single flight on an in-process future) and, across processes, by whoever takes a short
Redis lock while the others poll for the value. When Redis fails, the cache steps aside
for ``retry_after`` seconds and requests are served from gold (or the in-process layer).
Without Redis (the embedded default) the in-process layer alone caches each process's
answers under the same keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from prometheus_client import Counter

log = logging.getLogger(__name__)

CACHE_EVENTS = Counter("nova_api_cache_total", "API cache lookups by result", ["result"])
LOCAL_HITS = CACHE_EVENTS.labels("local_hit")

Loader = Callable[[], Awaitable[bytes]]


def cache_key(version: str, route: str, params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
    return f"nova:api:{version}:{route}:{digest}"


class Cache:
    """Cache-aside over an optional Redis; never raises because Redis is down."""

    def __init__(
        self,
        url: str | None,
        *,
        ttl_seconds: int,
        lock_seconds: float = 5.0,
        retry_after: float = 2.0,
        local_entries: int = 1024,
    ) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self.lock_ms = int(lock_seconds * 1000)
        self.retry_after = retry_after
        self._down_until = 0.0
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        # A small in-process layer in front of Redis (or alone, without Redis): safe because
        # keys carry the gold version (an entry never goes stale), and it saves a Redis round
        # trip on hot keys.
        self._local: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.local_entries = local_entries
        self._redis: Any = None
        if url:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # No retries and short timeouts: a dead Redis must cost a request milliseconds.
            self._redis = Redis.from_url(
                url,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
                retry=Retry(NoBackoff(), 0),
            )

    @property
    def enabled(self) -> bool:
        return self._redis is not None

    def _usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("redis unavailable, serving from gold: %s", exc)
        self._down_until = time.monotonic() + self.retry_after

    async def ping(self) -> Literal["ok", "down", "disabled"]:
        """'ok', 'down' or 'disabled' (no Redis configured)."""
        if self._redis is None:
            return "disabled"
        try:
            await self._redis.ping()
        except Exception as exc:
            self._failed(exc)
            return "down"
        self._down_until = 0.0
        return "ok"

    async def _get(self, key: str) -> bytes | None:
        if not self._usable():
            return None
        try:
            value: bytes | None = await self._redis.get(key)
            return value
        except Exception as exc:
            self._failed(exc)
            return None

    async def _set(self, key: str, value: bytes) -> None:
        if not self._usable():
            return
        try:
            await self._redis.set(key, value, ex=self.ttl)
        except Exception as exc:
            self._failed(exc)

    def local(self, key: str) -> bytes | None:
        """The in-process layer's live value of ``key``, if it has one."""
        entry = self._local.get(key)
        if entry is not None and entry[0] > time.monotonic():
            LOCAL_HITS.inc()
            return entry[1]
        return None

    async def get_or_load(self, key: str, loader: Loader) -> bytes:
        """The cached value of ``key``, or ``loader()``'s, stored for the next request."""
        local = self.local(key)
        if local is not None:
            return local
        value = await self._get(key)
        if value is not None:
            CACHE_EVENTS.labels("hit").inc()
            self._keep(key, value)
            return value
        pending = self._inflight.get(key)
        if pending is not None:
            CACHE_EVENTS.labels("coalesced").inc()
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._load_once(key, loader)
            self._keep(key, value)
            future.set_result(value)
            return value
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._inflight[key]

    def keep_local(self, key: str, value: bytes) -> None:
        """Hold ``value`` in the in-process layer only (an answer built from more than gold,
        replayed by the fast path under its own guard)."""
        self._keep(key, value)

    def _keep(self, key: str, value: bytes) -> None:
        if not self.local_entries:
            return
        # Without Redis (the embedded default) the in-process layer is the whole cache: a
        # key names its gold version, so an entry is never stale, only evicted or expired.
        self._local[key] = (time.monotonic() + self.ttl, value)
        self._local.move_to_end(key)
        while len(self._local) > self.local_entries:
            self._local.popitem(last=False)

    async def _load_once(self, key: str, loader: Loader) -> bytes:
        """Load under a Redis lock so that one process fills a cold key for all."""
        CACHE_EVENTS.labels("miss").inc()
        if not self._usable():
            return await loader()
        lock = f"{key}:lock"
        try:
            got_lock = await self._redis.set(lock, b"1", nx=True, px=self.lock_ms)
        except Exception as exc:
            self._failed(exc)
            return await loader()
        if not got_lock:
            # Another process is loading it: wait for its value, then give up and load.
            deadline = time.monotonic() + self.lock_ms / 1000
            while time.monotonic() < deadline and self._usable():
                await asyncio.sleep(0.02)
                value = await self._get(key)
                if value is not None:
                    return value
            return await loader()
        try:
            value = await loader()
            await self._set(key, value)
            return value
        finally:
            if self._usable():
                try:
                    await self._redis.delete(lock)
                except Exception as exc:
                    self._failed(exc)

    async def close(self) -> None:
        if self._redis is not None:
            # Closing a dead connection: nothing to keep.
            with contextlib.suppress(Exception):
                await self._redis.aclose()
