"""The hub's depot scope and its periodic re-check of each client's sign-in."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.api.hub import AlertFilter, AlertHub
from backend.api.principal import Principal

SCOPED = Principal(kind="session", subject="u1", role="viewer", depots=("DEP01",),
                   email="ana@x.com", session_id="s1")  # fmt: skip
KEY = Principal(kind="key", subject="k1", role="viewer")


def test_a_scoped_filter_only_matches_its_depots() -> None:
    scoped = AlertFilter(depots=("DEP01",))
    assert scoped.matches({"depot_id": "DEP01", "item_id": "ITM1"})
    assert not scoped.matches({"depot_id": "DEP02", "item_id": "ITM1"})
    assert not scoped.matches({"item_id": "ITM1"})  # no depot: not theirs
    assert AlertFilter().matches({"depot_id": "DEP02"})


class FakeSocket:
    """Just enough of a WebSocket for the hub: records what it is sent and its close."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self._never = asyncio.Event()

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def receive_text(self) -> str:
        await self._never.wait()
        return ""

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


def test_a_client_whose_sign_in_ends_is_closed_with_1008() -> None:
    valid = {SCOPED: True, KEY: True}
    asked: list[Principal] = []

    async def authorize(principal: Principal) -> bool:
        asked.append(principal)
        return valid[principal]

    async def scenario() -> None:
        hub = AlertHub(queue_size=8, heartbeat_seconds=60, buffer_size=8, authorize=authorize,
                       recheck_seconds=0.01)  # fmt: skip
        sockets: dict[str, Any] = {"person": FakeSocket(), "service": FakeSocket()}
        person = asyncio.create_task(hub.serve(sockets["person"], AlertFilter(), None, SCOPED))
        service = asyncio.create_task(hub.serve(sockets["service"], AlertFilter(), None, KEY))
        while len(asked) < 4:  # both checked at least twice while valid
            await asyncio.sleep(0.01)
        assert not person.done() and not service.done()
        valid[SCOPED] = False  # e.g. the user was disabled
        await asyncio.wait_for(person, 5)
        assert sockets["person"].closed[0] == 1008
        assert not service.done() and sockets["service"].closed is None
        valid[KEY] = False  # the key was revoked
        await asyncio.wait_for(service, 5)
        assert sockets["service"].closed[0] == 1008
        assert hub.clients == set()

    asyncio.run(scenario())


def test_an_unreachable_database_keeps_clients_connected() -> None:
    async def authorize(principal: Principal) -> bool:
        raise ConnectionError("app database down")

    async def scenario() -> None:
        hub = AlertHub(queue_size=8, heartbeat_seconds=60, buffer_size=8, authorize=authorize)
        socket: Any = FakeSocket()
        task = asyncio.create_task(hub.serve(socket, AlertFilter(), None, KEY))
        await asyncio.sleep(0)
        assert await hub.recheck() == 0
        assert len(hub.clients) == 1 and socket.closed is None
        task.cancel()

    asyncio.run(scenario())


def test_a_worsening_of_the_same_episode_is_sent_and_a_repeat_is_not() -> None:
    hub = AlertHub(queue_size=8, heartbeat_seconds=60, buffer_size=16)
    warning = {"alert_id": "42", "depot_id": "DEP01", "severity": "warning"}
    critical = {**warning, "severity": "critical"}
    assert hub._remember(warning) is not None
    assert hub._remember(dict(warning)) is None  # at-least-once upstream: a repeat is dropped
    assert hub._remember(critical) is not None  # same episode, worse: goes out
    assert hub._remember(dict(critical)) is None
    # Resuming after the episode's id replays what came after its last appearance.
    later = {"alert_id": "43", "depot_id": "DEP01", "severity": "warning"}
    hub._remember(later)
    replay, resume = hub._replay("42", AlertFilter())
    assert resume == "ok" and len(replay) == 1 and '"43"' in replay[0]
