"""The hub holds back alerts planners dealt with, and passes a worsened one under its id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from backend.api.hub import AlertFilter, AlertHub, Client


def hub_with_client(dealt_with: set[tuple[str, str]]) -> tuple[AlertHub, Client]:
    hub = AlertHub(queue_size=16, heartbeat_seconds=30, buffer_size=16)
    hub.suppress = lambda alert: (alert["alert_id"], alert["severity"]) in dealt_with
    # publish only queues: the client's socket is never touched here.
    client = Client(None, AlertFilter(), asyncio.Queue(16))  # type: ignore[arg-type]
    hub.clients.add(client)
    return hub, client


def queued(client: Client) -> list[Mapping[str, Any]]:
    out = []
    while not client.queue.empty():
        out.append(json.loads(client.queue.get_nowait())["data"])
    return out


def test_suppressed_alerts_are_neither_sent_nor_kept_for_resume() -> None:
    hub, client = hub_with_client({("EP-1", "warning")})
    assert hub.publish({"alert_id": "EP-1", "severity": "warning"}) == 0
    assert hub.publish({"alert_id": "EP-2", "severity": "warning"}) == 1
    assert [a["alert_id"] for a in queued(client)] == ["EP-2"]
    assert [entry[0] for entry in hub._recent] == ["EP-2"]


def test_a_worsened_alert_comes_again_under_the_same_id() -> None:
    hub, client = hub_with_client({("EP-1", "warning")})
    assert hub.publish({"alert_id": "EP-1", "severity": "critical"}) == 1
    assert hub.publish({"alert_id": "EP-1", "severity": "critical"}) == 0  # a redelivery
    hub.suppress = None
    assert hub.publish({"alert_id": "EP-3", "severity": "warning"}) == 1
    assert hub.publish({"alert_id": "EP-3", "severity": "critical"}) == 1
    assert [(a["alert_id"], a["severity"]) for a in queued(client)] == [
        ("EP-1", "critical"), ("EP-3", "warning"), ("EP-3", "critical"),
    ]  # fmt: skip
