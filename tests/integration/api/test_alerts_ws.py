"""Live alerts: Kafka -> the API's feed -> WebSocket clients, with real clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from backend.events.kafka import encode, producer
from tests.integration.api.conftest import Api
from tests.services.api import api_server

pytestmark = pytest.mark.integration


def alert(item: str, depot: str, severity: str = "warning", pad: int = 0) -> dict[str, Any]:
    return {
        "alert_id": f"T-{uuid.uuid4().hex[:12]}",
        "alert_date": "2026-11-01",
        "item_id": item,
        "depot_id": depot,
        "severity": severity,
        "projected_position": 3.0,
        "reorder_point": 10.0,
        "message": "x" * pad or f"{item} at {depot} below its reorder point",
        "source": "stream",
    }


async def produce(api: Api, *alerts: dict[str, Any]) -> None:
    assert api.settings.kafka_bootstrap
    kafka = producer(api.settings.kafka_bootstrap)
    await kafka.start()
    try:
        for a in alerts:
            await kafka.send(api.settings.alerts_topic, encode(a), key=a["alert_id"].encode())
        await kafka.flush()
    finally:
        await kafka.stop()


def wait_feed_ready(*apps: Any) -> None:
    deadline = time.monotonic() + 30
    while not all(app.state.feed.assigned.is_set() for app in apps):
        assert time.monotonic() < deadline, "the API's alert feed never got its partitions"
        time.sleep(0.05)


@asynccontextmanager
async def client(
    api: Api, base: str | None = None, **filters: str
) -> AsyncIterator[ClientConnection]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    # The client library drains its socket into memory (no flow control), so a test that
    # checks one client at a time never looks like a slow client to the server.
    url = f"{base or api.server.ws_url}/ws/alerts?{query}"
    headers = {"Authorization": f"Bearer {api.viewer}"}
    async with connect(url, max_queue=None, additional_headers=headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "subscribed"
        ws.hello = hello  # type: ignore[attr-defined]
        yield ws


async def next_alert(ws: ClientConnection, timeout: float = 15) -> dict[str, Any]:
    """The next alert, skipping heartbeats."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no alert came"
        message = json.loads(await asyncio.wait_for(ws.recv(), left))
        if message["type"] == "alert":
            data: dict[str, Any] = message["data"]
            return data


def test_alert_reaches_every_matching_client_and_no_other(api: Api) -> None:
    wait_feed_ready(api.server.app)

    async def scenario() -> None:
        async with (
            client(api, depot_id="DEP01") as by_depot,
            client(api, item_id="ITM001", severity="critical") as by_item,
            client(api, depot_id="DEP02") as other,
        ):
            first = alert("ITM001", "DEP01", "critical")
            await produce(api, first)
            assert (await next_alert(by_depot))["alert_id"] == first["alert_id"]
            assert (await next_alert(by_item))["alert_id"] == first["alert_id"]
            # The other client's first alert is the next one that matches it.
            second = alert("ITM009", "DEP02")
            await produce(api, second)
            assert (await next_alert(other))["alert_id"] == second["alert_id"]
            # A repeated alert id (an outbox re-send) reaches nobody twice.
            third = alert("ITM001", "DEP01", "critical")
            await produce(api, first, third)
            assert (await next_alert(by_depot))["alert_id"] == third["alert_id"]

    asyncio.run(scenario())


def test_heartbeat_and_resume_from_an_alert_id(api: Api) -> None:
    wait_feed_ready(api.server.app)

    async def scenario() -> None:
        sent = [alert("ITM002", "DEP02") for _ in range(3)]
        async with client(api, item_id="ITM002") as live:
            await produce(api, *sent)
            for a in sent:
                assert (await next_alert(live))["alert_id"] == a["alert_id"]
            # Quiet: a heartbeat comes within the configured second.
            beat = json.loads(await asyncio.wait_for(live.recv(), 10))
            assert beat["type"] == "heartbeat"
        async with client(api, item_id="ITM002", since=sent[0]["alert_id"]) as resumed:
            assert resumed.hello["resume"] == "ok"  # type: ignore[attr-defined]
            assert resumed.hello["replayed"] == 2  # type: ignore[attr-defined]
            assert (await next_alert(resumed))["alert_id"] == sent[1]["alert_id"]
            assert (await next_alert(resumed))["alert_id"] == sent[2]["alert_id"]
        async with client(api, since="never-seen") as lost:
            assert lost.hello["resume"] == "unknown"  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_websocket_needs_a_key(api: Api) -> None:
    async def scenario() -> None:
        with pytest.raises(Exception, match="403"):
            async with connect(
                f"{api.server.ws_url}/ws/alerts", additional_headers={"Authorization": "Bearer x"}
            ):
                pass
        with pytest.raises(Exception, match="403"):
            async with connect(f"{api.server.ws_url}/ws/alerts"):
                pass
        # The key no longer travels in the URL: a valid key as ?token= authenticates nothing.
        with pytest.raises(Exception, match="403"):
            async with connect(f"{api.server.ws_url}/ws/alerts?token={api.viewer}"):
                pass

    asyncio.run(scenario())


def stalled_socket(api: Api) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", api.server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (f"GET /ws/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api.viewer}\r\n"
         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    )  # fmt: skip
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def test_a_stalled_client_is_dropped_and_never_delays_the_others(api: Api) -> None:
    wait_feed_ready(api.server.app)
    hub = api.server.app.state.hub

    async def scenario() -> None:
        stalled = stalled_socket(api)
        try:
            async with client(api, depot_id="DEP03") as fast, client(api) as everything:
                deadline = time.monotonic() + 10
                while len(hub.clients) < 3:  # the stalled one has registered too
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                sent = 0
                # 4 KB alerts: the stalled socket's buffers fill, then its queue of 64.
                for _ in range(40):
                    batch = [alert("ITM001", "DEP03", pad=4096) for _ in range(25)]
                    await produce(api, *batch)

                    for a in batch:
                        assert (await next_alert(fast))["alert_id"] == a["alert_id"]
                        assert (await next_alert(everything))["alert_id"] == a["alert_id"]
                    sent += len(batch)
                    if len(hub.clients) == 2:
                        break
                assert len(hub.clients) == 2, f"stalled client still connected after {sent}"
                # The others go on receiving.
                last = alert("ITM001", "DEP03")
                await produce(api, last)
                assert (await next_alert(fast))["alert_id"] == last["alert_id"]
        finally:
            stalled.close()

    asyncio.run(scenario())


def test_every_api_process_receives_every_alert(api: Api) -> None:
    with api_server(api.settings) as second:
        wait_feed_ready(api.server.app, second.app)

        async def scenario() -> None:
            async with client(api) as one, client(api, second.ws_url) as two:
                sent = [alert("ITM003", "DEP01") for _ in range(5)]
                await produce(api, *sent)
                for ws in (one, two):
                    got = [(await next_alert(ws))["alert_id"] for _ in sent]
                    assert got == [a["alert_id"] for a in sent]

        asyncio.run(scenario())
