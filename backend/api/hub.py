"""Fan-out of live alerts to WebSocket clients.

Each client has a bounded queue and its own sender task. Publishing never awaits: an
alert is encoded once and put on every matching client's queue; a client whose queue is
full (slow or dead) is dropped, so it never delays the others. Recent alerts are kept in
a ring buffer so a client can resume from the last alert id it saw. Every
``recheck_seconds`` each client's sign-in is checked again (``authorize``): a revoked key,
a revoked session or a disabled user is disconnected with close code 1008. ``suppress``
(set by backend.api.planning) holds back alerts a planner acknowledged, snoozed or resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from backend.api.metrics import WS_CLIENTS, WS_DROPPED
from backend.api.principal import Principal

log = logging.getLogger(__name__)
FILTER_KEYS = ("item_id", "depot_id", "severity")


@dataclass(frozen=True)
class AlertFilter:
    item_id: str | None = None
    depot_id: str | None = None
    severity: str | None = None
    depots: tuple[str, ...] | None = None  # the subscriber's depot scope; None: every depot

    def matches(self, alert: Mapping[str, Any]) -> bool:
        if self.depots is not None and alert.get("depot_id") not in self.depots:
            return False
        return all(
            want is None or alert.get(key) == want
            for key, want in (
                ("item_id", self.item_id),
                ("depot_id", self.depot_id),
                ("severity", self.severity),
            )
        )


@dataclass(eq=False)
class Client:
    websocket: WebSocket
    filter: AlertFilter
    queue: asyncio.Queue[str]
    principal: Principal | None = None
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    revoked: asyncio.Event = field(default_factory=asyncio.Event)
    last_sent: float = field(default_factory=time.monotonic)


Authorize = Callable[[Principal], Awaitable[bool]]


class AlertHub:
    def __init__(
        self,
        *,
        queue_size: int,
        heartbeat_seconds: float,
        buffer_size: int,
        authorize: Authorize | None = None,
        recheck_seconds: float = 2.0,
    ) -> None:
        self.queue_size = queue_size
        self.heartbeat_seconds = heartbeat_seconds
        self.authorize = authorize
        self.recheck_seconds = recheck_seconds
        self.clients: set[Client] = set()
        self._recent: deque[tuple[str, Mapping[str, Any], str]] = deque(maxlen=buffer_size)
        # (alert id, severity): an episode keeps its id, and a worsening must still go out.
        self._seen: set[tuple[str, str]] = set()
        self._beats: asyncio.Task[None] | None = None
        self._rechecks: asyncio.Task[None] | None = None
        # True for an alert not to push (a planner has dealt with it and it has not worsened).
        self.suppress: Callable[[Mapping[str, Any]], bool] | None = None

    # --- producer side --------------------------------------------------------------

    def _remember(self, alert: Mapping[str, Any]) -> str | None:
        """Buffer an alert; its encoded message, or None if this id and severity were seen."""
        alert_id = str(alert.get("alert_id", ""))
        seen_key = (alert_id, str(alert.get("severity", "")))
        if not alert_id or seen_key in self._seen:
            return None
        if self._recent.maxlen and len(self._recent) == self._recent.maxlen:
            oldest_id, oldest, _ = self._recent[0]
            self._seen.discard((oldest_id, str(oldest.get("severity", ""))))
        message = json.dumps({"type": "alert", "data": alert}, default=str)
        self._recent.append((alert_id, alert, message))
        self._seen.add(seen_key)
        return message

    def remember(self, alert: Mapping[str, Any]) -> None:
        """Keep an old alert for resuming clients without sending it live."""
        self._remember(alert)

    def publish(self, alert: Mapping[str, Any]) -> int:
        """Queue the alert for every matching client; returns how many got it.

        An alert already seen (same id and severity) is not sent again (at-least-once
        delivery upstream); nor is one that ``suppress`` holds back.
        """
        if self.suppress is not None and self.suppress(alert):
            return 0
        message = self._remember(alert)
        if message is None:
            return 0
        sent = 0
        for client in list(self.clients):
            if not client.filter.matches(alert):
                continue
            try:
                client.queue.put_nowait(message)
                sent += 1
            except asyncio.QueueFull:
                self._drop(client)
        return sent

    def _drop(self, client: Client) -> None:
        log.warning("dropping a slow WebSocket client (queue of %d full)", self.queue_size)
        WS_DROPPED.inc()
        self.clients.discard(client)
        client.dropped.set()

    # --- client side ----------------------------------------------------------------

    def _replay(self, since: str | None, flt: AlertFilter) -> tuple[list[str], str | None]:
        if since is None:
            return [], None
        ids = [entry[0] for entry in self._recent]
        if since not in ids:
            return [], "unknown"
        last = len(ids) - 1 - ids[::-1].index(since)  # an episode may appear more than once
        after = list(self._recent)[last + 1 :]
        return [message for _, alert, message in after if flt.matches(alert)], "ok"

    async def serve(
        self,
        websocket: WebSocket,
        flt: AlertFilter,
        since: str | None,
        principal: Principal | None = None,
    ) -> None:
        """Run one accepted client until it leaves, is dropped or loses its sign-in."""
        # No await between the replay snapshot and registering: no alert falls between.
        replay, resume = self._replay(since, flt)
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=self.queue_size + len(replay))
        for message in replay:
            queue.put_nowait(message)
        client = Client(websocket, flt, queue, principal)
        self.clients.add(client)
        WS_CLIENTS.inc()
        if self._beats is None or self._beats.done():
            self._beats = asyncio.create_task(self._heartbeats())
        if self.authorize is not None and (self._rechecks is None or self._rechecks.done()):
            self._rechecks = asyncio.create_task(self._recheck_loop())
        hello = {
            "type": "subscribed",
            "filters": {k: getattr(flt, k) for k in FILTER_KEYS},
            "resume": resume,
            "replayed": len(replay),
            "heartbeat_seconds": self.heartbeat_seconds,
        }
        tasks = [
            asyncio.create_task(self._send(client, json.dumps(hello))),
            asyncio.create_task(self._receive(websocket)),
            asyncio.create_task(client.dropped.wait()),
            asyncio.create_task(client.revoked.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.clients.discard(client)
            WS_CLIENTS.dec()
            if client.revoked.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(1008, "signed out or revoked"), 1.0)
            elif client.dropped.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(websocket.close(1013, "too slow: queue full"), 1.0)

    async def _send(self, client: Client, hello: str) -> None:
        # No timeout around each get (a timer per alert and client is a fifth of the
        # fan-out's cost): heartbeats come from one task for all clients.
        await client.websocket.send_text(hello)
        client.last_sent = time.monotonic()
        while True:
            message = await client.queue.get()
            await client.websocket.send_text(message)
            client.last_sent = time.monotonic()

    async def _heartbeats(self) -> None:
        """Queue a heartbeat for each client silent for ``heartbeat_seconds``, while any."""
        while self.clients:
            await asyncio.sleep(self.heartbeat_seconds / 4)
            now, beat = time.monotonic(), None
            for client in list(self.clients):
                # A non-empty queue means a message is on its way (or the client is stuck).
                if now - client.last_sent >= self.heartbeat_seconds and client.queue.empty():
                    beat = beat or json.dumps({"type": "heartbeat", "ts": time.time()})
                    client.queue.put_nowait(beat)
                    client.last_sent = now  # one beat per silence, not one per tick

    async def recheck(self) -> int:
        """Re-check every client's principal once (one query per distinct principal);
        returns how many clients were disconnected."""
        if self.authorize is None:
            return 0
        by_principal: dict[Principal, list[Client]] = {}
        for client in list(self.clients):
            if client.principal is not None:
                by_principal.setdefault(client.principal, []).append(client)
        closed = 0
        for principal, clients in by_principal.items():
            try:
                valid = await self.authorize(principal)
            except Exception:  # the app database is unreachable: keep them, retry next tick
                log.warning("could not re-check a WebSocket client's sign-in", exc_info=True)
                continue
            if not valid:
                for client in clients:
                    self.clients.discard(client)
                    client.revoked.set()
                    closed += 1
        return closed

    async def _recheck_loop(self) -> None:
        while self.clients:
            await asyncio.sleep(self.recheck_seconds)
            await self.recheck()

    async def _receive(self, websocket: WebSocket) -> None:
        """Read until the client closes (clients send nothing we need)."""
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()
