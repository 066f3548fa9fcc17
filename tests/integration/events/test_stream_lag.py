"""`nova stream`'s consumer lag per partition, against a real Kafka-protocol broker: it
grows while the processor waits for gold, and falls to zero once it consumes."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from backend.events.kafka import ensure_topics
from backend.events.stream import StreamProcessor
from backend.settings import Settings
from tests.integration.events.test_stream_faults import movement, running, send, until
from tests.services.gold import SCHEMAS, reorder_rows, write_gold

pytestmark = pytest.mark.integration


def test_lag_per_partition_is_served_while_waiting_and_after_consuming(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        kafka_bootstrap=kafka_bootstrap, inventory_topic=f"inventory-{tag}",
        alerts_topic=f"alerts-{tag}", stream_dead_letter_topic=f"dlq-{tag}",
        stream_refresh_seconds=0.2, stream_metrics_port=0,
    )  # fmt: skip
    labels = {"consumer": "stream", "topic": settings.inventory_topic, "partition": "0"}

    def lag() -> float | None:
        return REGISTRY.get_sample_value("nova_kafka_consumer_lag", labels)

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        await ensure_topics(kafka_bootstrap, settings.inventory_topic)
        await send(settings, *(movement("ITM001", "consumption", 1) for _ in range(3)))
        # No gold yet: nothing is consumed, and the lag says how much waits.
        await until(lambda: lag() == 3.0, "a lag of 3 before the first daily run")
        write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
        await until(lambda: lag() == 0.0, "a lag of 0 once consumed")
        assert not task.done()

    processor = asyncio.run(running(settings, scenario))
    assert processor.positions[("ITM001", "DEP01")].on_hand == 17.0
