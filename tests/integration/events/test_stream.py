"""`nova stream` against a real Kafka-protocol broker: crossings raise alerts at once, and
positions survive a restart without re-applying a movement."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from backend.events.kafka import decode, encode, ensure_topics, producer
from backend.events.stream import StateStore, StreamProcessor
from backend.settings import Settings
from tests.services.gold import SCHEMAS, reorder_rows, write_gold

pytestmark = pytest.mark.integration


def movement(n: int, item: str, kind: str, qty: float, day: str = "2026-11-01") -> dict[str, Any]:
    return {"movement_id": n, "item_id": item, "depot_id": "DEP01", "movement_type": kind,
            "quantity": qty, "movement_date": day}  # fmt: skip


def test_crossings_raise_alerts_and_positions_survive_a_restart(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        kafka_bootstrap=kafka_bootstrap, inventory_topic=f"inventory-{tag}",
        alerts_topic=f"alerts-{tag}",
    )  # fmt: skip
    # Gold says: 20 on hand, reorder point 10, safety stock 5, as of 2026-10-31.
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])

    async def scenario() -> None:
        await ensure_topics(kafka_bootstrap, settings.inventory_topic, settings.alerts_topic)
        alerts = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
        await alerts.start()
        tp = TopicPartition(settings.alerts_topic, 0)
        alerts.assign([tp])
        await alerts.seek_to_beginning(tp)
        kafka = producer(kafka_bootstrap)
        await kafka.start()

        async def send(*events: dict[str, Any]) -> None:
            for e in events:
                await kafka.send_and_wait(settings.inventory_topic, encode(e))

        async def next_alert() -> dict[str, Any]:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                for messages in (await alerts.getmany(timeout_ms=200)).values():
                    for m in messages:
                        payload = decode(m.value)
                        assert payload is not None
                        return payload
            raise AssertionError("no alert")

        async def start() -> tuple[StreamProcessor, asyncio.Event, asyncio.Task[None]]:
            processor = StreamProcessor(settings)
            stop = asyncio.Event()
            return processor, stop, asyncio.create_task(processor.run(stop))

        try:
            processor, stop, task = await start()
            await send(
                movement(1, "ITM001", "consumption", 4, day="2026-10-31"),  # in gold already
                movement(2, "ITM001", "consumption", 8),  # 20 -> 12: above the reorder point
                movement(3, "ITM002", "receipt", 5),  # another position
                movement(4, "ITM001", "consumption", 3),  # 12 -> 9: crosses 10
            )
            warning = await next_alert()
            assert (warning["item_id"], warning["severity"]) == ("ITM001", "warning")
            assert warning["projected_position"] == 9.0
            assert warning["source"] == "stream"
            stop.set()
            await task
            processor.close()

            saved = StateStore(settings.stream_state_path)
            positions = saved.positions()
            assert positions[("ITM001", "DEP01")].on_hand == 9.0
            assert positions[("ITM002", "DEP01")].on_hand == 25.0
            assert saved.offsets(settings.inventory_topic) == {0: 4}
            saved.close()

            # Restart: state and offsets come back; nothing is applied twice.
            processor, stop, task = await start()
            await send(movement(5, "ITM001", "consumption", 5))  # 9 -> 4: under safety stock
            sent_at = time.time()
            critical = await next_alert()
            print(f"movement -> alert after a restart: {(time.time() - sent_at) * 1000:.0f} ms")
            assert (critical["item_id"], critical["severity"]) == ("ITM001", "critical")
            assert critical["projected_position"] == 4.0
            deadline = time.monotonic() + 10
            while processor.applied < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert processor.applied == 1  # only the new movement
            assert processor.positions[("ITM002", "DEP01")].on_hand == 25.0
            stop.set()
            await task
            processor.close()
        finally:
            await kafka.stop()
            await alerts.stop()

    asyncio.run(scenario())
