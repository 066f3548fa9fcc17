"""One client cannot hold every gold query worker: its extra queries wait for its own."""

from __future__ import annotations

import asyncio
import threading

import pytest

from backend.api.cache import Cache
from backend.api.http import CURRENT_CLIENT
from backend.api.lake import GoldLake
from backend.lake.reader import GoldReader
from backend.settings import Settings

pytestmark = pytest.mark.reliability


def test_a_busy_client_leaves_workers_for_the_others(settings: Settings) -> None:
    lake = GoldLake(settings, Cache(None, ttl_seconds=60), workers=4)
    release = threading.Event()
    running: dict[str, int] = {"a": 0, "b": 0}
    lock = threading.Lock()

    def query(who: str):  # type: ignore[no-untyped-def]
        def run(_reader: GoldReader) -> str:
            with lock:
                running[who] += 1
            release.wait(10)
            return who

        return run

    async def as_client(who: str) -> str:
        CURRENT_CLIENT.set(who.encode())
        return await lake._run_at(None, query(who))

    async def scenario() -> list[str]:
        greedy = [asyncio.create_task(as_client("a")) for _ in range(5)]
        await asyncio.sleep(0.3)
        assert running["a"] == lake.per_client == 2  # the other three wait for a's own
        other = asyncio.create_task(as_client("b"))
        await asyncio.sleep(0.3)
        assert running["b"] == 1  # b is served at once, beside a
        release.set()
        return await asyncio.gather(*greedy, other)

    try:
        assert sorted(asyncio.run(scenario())) == ["a"] * 5 + ["b"]
    finally:
        release.set()
        lake.close()
