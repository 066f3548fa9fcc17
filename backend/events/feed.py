"""The API's consumer of `stock-alerts`: every API process reads every alert.

No consumer group: the process assigns itself every partition, so several workers or
replicas never split the stream. At start it reads back the last ``backlog`` alerts of
each partition into the hub's resume buffer (not sent live), then sends new ones live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from backend.events.kafka import consumer as kafka_consumer
from backend.events.kafka import decode
from backend.events.metrics import ALERTS_FANNED, CONSUMER_LAG
from backend.settings import Settings

log = logging.getLogger(__name__)


class Sink(Protocol):
    def publish(self, alert: Mapping[str, Any]) -> int: ...
    def remember(self, alert: Mapping[str, Any]) -> None: ...


class AlertFeed:
    def __init__(
        self,
        bootstrap: str | None,
        topic: str,
        sink: Sink,
        *,
        backlog: int,
        settings: Settings | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.settings = settings  # its Kafka authentication; None: the process's settings
        self.topic = topic
        self.sink = sink
        self.backlog = backlog
        self.status: Literal["ok", "down", "disabled", "starting"] = (
            "starting" if bootstrap else "disabled"
        )
        self.detail: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.assigned = asyncio.Event()
        self._next: dict[Any, int] = {}  # partition -> next offset, kept across reconnects

    def start(self) -> None:
        if self.bootstrap and self._task is None:
            self._task = asyncio.create_task(self._run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_forever(self) -> None:
        delay, first_look = 0.5, True
        while True:
            try:
                first_look = await self._run(first_look)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status, self.detail = "down", f"{type(exc).__name__}: {exc}"
                log.warning("alert feed: Kafka unavailable (%s); retrying in %.1fs", exc, delay)
                self.assigned.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                delay = 0.5

    async def _run(self, first_look: bool) -> bool:
        from aiokafka import TopicPartition

        assert self.bootstrap
        consumer = kafka_consumer(
            self.bootstrap,
            self.settings,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=10_000,
            # Short fetch waits: a broker that does not answer a long poll early (Tansu)
            # would otherwise hold each alert for up to the default 500 ms.
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        try:
            # Wait for the topic: alerts produced after it appears are all live.
            while not (partitions := consumer.partitions_for_topic(self.topic)):
                await consumer.topics()  # refreshes the metadata
                if consumer.partitions_for_topic(self.topic):
                    break
                self.status, self.detail = "ok", f"waiting for topic {self.topic!r}"
                first_look = False
                await asyncio.sleep(1.0)
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            live_from: dict[Any, int] = {}
            for tp in tps:
                if tp in self._next:  # reconnected: carry on where we were, live
                    live_from[tp] = self._next[tp]
                elif first_look:  # the topic was there at start: its tail is history
                    live_from[tp] = ends[tp]
                else:  # the topic appeared while we waited: all of it is new
                    live_from[tp] = 0
                consumer.seek(
                    tp, max(0, live_from[tp] - (self.backlog if tp not in self._next else 0))
                )
            self.status, self.detail = "ok", None
            self.assigned.set()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for tp, messages in batches.items():
                    for message in messages:
                        self._next[tp] = message.offset + 1
                        alert = decode(message.value)
                        if alert is None:
                            continue
                        if message.offset < live_from[tp]:
                            self.sink.remember(alert)
                        else:
                            ALERTS_FANNED.inc()
                            self.sink.publish(alert)
                            # Let every client's sender run between alerts: a burst must
                            # not fill the queues of clients that keep up.
                            await asyncio.sleep(0)
                for tp in tps:
                    high = consumer.highwater(tp)
                    if high is not None:
                        behind = max(0, high - await consumer.position(tp))
                        CONSUMER_LAG.labels("api", self.topic, str(tp.partition)).set(behind)
        finally:
            await consumer.stop()
        return False  # not reached: the loop runs until cancelled or Kafka fails
