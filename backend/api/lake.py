"""The API's view of gold: queries in a worker pool, responses through the cache."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from backend.api import memtables
from backend.api.cache import CACHE_EVENTS, Cache, cache_key
from backend.api.fastpath import note_cache_key
from backend.api.http import CURRENT_CLIENT
from backend.lake.duck import set_memory_limit
from backend.lake.reader import GoldReader, read_gold_version, snapshot_cache
from backend.settings import Settings

T = TypeVar("T")
NO_VERSION = "none"
log = logging.getLogger(__name__)
HELD_ANSWERS = CACHE_EVENTS.labels("held")  # misses answered from tables held in memory

# What routes prepare for each newly published gold version (tables held in memory,
# per-version figures), run in one worker as soon as the API sees the version, so that
# the first requests after a run do not wait for it.
WARMERS: list[Callable[[GoldReader], object]] = []


def warm_on_publish(fn: Callable[[GoldReader], object]) -> Callable[[GoldReader], object]:
    """Register ``fn(reader)`` to run on every new gold version (a decorator)."""
    WARMERS.append(fn)
    return fn


class GoldVersion:
    """The published gold version, re-read at most every ``poll_seconds``.

    Stale-while-revalidate: once known, requests never wait for a re-read; an expired
    value starts one background read and is served until that read lands.
    """

    def __init__(self, settings: Settings, poll_seconds: float) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._value: dict[str, Any] | None = None
        self._read_at = float("-inf")
        self._refresh: asyncio.Task[None] | None = None

    async def _read(self, pool: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._value = await loop.run_in_executor(pool, read_gold_version, self.settings)
        finally:
            self._read_at = time.monotonic()

    async def current(self, pool: ThreadPoolExecutor) -> dict[str, Any] | None:
        if time.monotonic() - self._read_at < self.poll_seconds:
            return self._value
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._read(pool))
        if self._read_at == float("-inf"):  # never read yet: wait for the first value
            await asyncio.shield(self._refresh)
        return self._value


class GoldLake:
    """What route handlers use: ``await lake.cached(...)`` and ``await lake.run(...)``."""

    def __init__(self, settings: Settings, cache: Cache, *, workers: int = 4) -> None:
        self.settings = settings
        self.cache = cache
        # A few threads: DuckDB parallelises each query itself, and the API must not
        # queue dozens of scans on a small machine.
        self.workers = workers
        # Query workers one client may hold at once: the rest stay free for other callers.
        share = settings.api_client_query_workers
        self.per_client = min(share, workers) if share > 0 else workers
        # client -> [its semaphore, its queries running or waiting]; dropped at zero
        self._slots: dict[bytes, tuple[asyncio.Semaphore, list[int]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        # DuckDB's memory limit is per database: the API's reads share this one.
        set_memory_limit(settings.api_query_memory_limit, settings)
        # Hot tables held sorted by item for one-item reads (backend/api/memtables.py).
        self.memory = memtables.configure(settings.api_memory_table_bytes)
        self.versions = GoldVersion(settings, settings.gold_version_poll_seconds)
        self._warmed: str | None = None
        self.snapshots = (
            snapshot_cache(settings.api_snapshot_table_bytes)
            if settings.api_snapshot_table_bytes > 0
            else None
        )

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Made on first use, so an app whose lifespan ended (tests) can start again."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gold")
        return self._pool

    async def _payload(self) -> dict[str, Any] | None:
        payload = await self.versions.current(self.pool)
        if payload and payload.get("version") != self._warmed and WARMERS:
            self._warmed = payload.get("version")
            self.pool.submit(self._warm, payload)
        return payload

    def _warm(self, payload: dict[str, Any]) -> None:
        for warm in WARMERS:
            try:
                warm(self.reader_at(payload))
            except Exception:  # a request will do (or report) the same work
                log.exception("warming gold version %s failed", payload.get("version"))
        # What was just built lives until the next version: out of the cyclic collector's
        # way. Each full collection otherwise walked it again (pauses of 100-200 ms on the
        # demo lake, every request in flight waiting); the previous version's garbage is
        # collected first, once.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    async def reader(self) -> GoldReader:
        """A reader of the published snapshot now (for a route's in-memory reads)."""
        return self.reader_at(await self._payload())

    async def version(self) -> str:
        payload = await self._payload()
        return str(payload["version"]) if payload else NO_VERSION

    def reader_at(self, payload: dict[str, Any] | None) -> GoldReader:
        """A reader of exactly the snapshot ``payload`` published, with the API's limits."""
        return GoldReader.published(
            self.settings,
            payload or {},
            timeout_seconds=self.settings.api_query_timeout_seconds,
            snapshots=self.snapshots,
        )

    async def run(self, fn: Callable[[GoldReader], T]) -> T:
        """Run a blocking query off the event loop, on the published snapshot."""
        payload = await self._payload()
        return await self._run_at(payload, fn)

    async def _run_at(self, payload: dict[str, Any] | None, fn: Callable[[GoldReader], T]) -> T:
        # One client's uncached queries wait for its own earlier ones beyond ``per_client``,
        # so a single caller can never hold every worker while others queue behind it.
        client = CURRENT_CLIENT.get()
        semaphore, users = self._slots.setdefault(client, (asyncio.Semaphore(self.per_client), [0]))
        users[0] += 1
        try:
            async with semaphore:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self.pool, fn, self.reader_at(payload))
        finally:
            users[0] -= 1
            if users[0] == 0:  # nothing of this client running or waiting: forget it
                del self._slots[client]

    async def cached_body(
        self,
        route: str,
        params: dict[str, Any],
        build: Callable[[GoldReader], BaseModel],
        *,
        fast_path: bool = True,
        inline: Callable[[GoldReader], BaseModel | None] | None = None,
    ) -> bytes:
        """The JSON of ``build(reader)``, cache-aside under the current gold version.

        Serialised once in the worker thread; a hit returns the stored bytes as they are.
        ``fast_path`` lets backend/api/fastpath.py replay the body for the same query: only
        for answers that depend on nothing but gold, the query and the caller's scope (a
        route that adds app-database state to the body passes False).

        ``inline`` answers a miss on the event loop when it can (a read of tables held in
        memory, well under a millisecond; it returns None otherwise and must never load or
        scan): no hop to a worker thread, no waiting for the GIL behind the workers' DuckDB
        reads, and no Redis round trips (recomputing costs less than fetching). ``build``
        answers every other miss in a worker, through Redis.
        """
        # One payload for the key and the reads: the cached body is that snapshot's.
        payload = await self._payload()
        version = str(payload["version"]) if payload else NO_VERSION
        key = cache_key(version, route, params)
        if fast_path:
            note_cache_key(version, key)

        local = self.cache.local(key)
        if local is not None:
            return local
        if inline is not None:
            # Cheaper than a Redis round trip: answered here, kept in this process only.
            answer = inline(self.reader_at(payload))
            if answer is not None:
                HELD_ANSWERS.inc()
                body = answer.model_dump_json().encode()
                self.cache.keep_local(key, body)
                return body

        async def load() -> bytes:
            return await self._run_at(
                payload, lambda reader: build(reader).model_dump_json().encode()
            )

        return await self.cache.get_or_load(key, load)

    async def cached(
        self,
        route: str,
        params: dict[str, Any],
        build: Callable[[GoldReader], BaseModel],
        *,
        inline: Callable[[GoldReader], BaseModel | None] | None = None,
    ) -> Response:
        """:meth:`cached_body` as a JSON response."""
        body = await self.cached_body(route, params, build, inline=inline)
        return Response(content=body, media_type="application/json")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
