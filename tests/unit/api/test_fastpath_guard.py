"""The fast path replays a noted answer only while its guard still holds."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from backend.api.auth import KeyVerifier
from backend.api.cache import Cache
from backend.api.fastpath import CachedResponses, note_cache_key
from backend.api.lake import GoldLake
from backend.appdb import upgrade
from backend.appdb.keys import create_key
from backend.lake.reader import write_gold_version
from backend.settings import Settings


def test_a_guarded_answer_is_not_replayed_once_its_state_moved(settings: Settings) -> None:
    write_gold_version(settings, "v1")
    engine = upgrade(settings)
    _, token = create_key(engine, role="viewer", name="t")
    verifier = KeyVerifier(engine)
    verifier.verify(token)  # known live, as after a first request through FastAPI
    # A Redis URL (never reached) enables the in-process layer the fast path reads.
    cache = Cache("redis://127.0.0.1:1", ttl_seconds=60)
    lake = GoldLake(settings, cache)
    revision = {"n": 0}
    served = {"app": 0}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        served["app"] += 1
        body = f'{{"revision": {revision["n"]}}}'.encode()
        key = f"answer-{revision['n']}"
        cache.keep_local(key, body)
        note_cache_key(await lake.version(), key, guard=lambda: revision["n"])
        scope["route"] = "actions"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    fast = CachedResponses(app, lake=lake, cache=cache, verifier=verifier)

    async def scenario() -> list[str]:
        transport = httpx.ASGITransport(app=fast)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            first = (await c.get("/api/v1/actions")).text
            replayed = (await c.get("/api/v1/actions")).text
            assert served["app"] == 1  # the second came from the fast path
            revision["n"] += 1  # a planner acted: the state behind the answer moved
            fresh = (await c.get("/api/v1/actions")).text
            return [first, replayed, fresh]

    try:
        first, replayed, fresh = asyncio.run(scenario())
    finally:
        lake.close()
        engine.dispose()
    assert first == replayed == '{"revision": 0}'
    assert fresh == '{"revision": 1}' and served["app"] == 2
