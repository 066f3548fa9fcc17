"""`nova stream` under faults, against a real Kafka-protocol broker: poison messages, a
SIGKILL between saving the state and sending the alert, a Kafka error on the send, a topic
whose partitions appear after the start, a newer daily run."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY

from backend.events.kafka import encode, ensure_topics, producer
from backend.events.stream import StreamProcessor
from backend.lake.reader import write_gold_version
from backend.settings import Settings
from tests.services.gold import SCHEMAS, reorder_rows, write_gold

pytestmark = [pytest.mark.integration, pytest.mark.reliability]
REPO = Path(__file__).resolve().parents[3]


def movement(item: str, kind: str, qty: float, day: str = "2026-11-01",
             depot: str = "DEP01") -> dict[str, Any]:  # fmt: skip
    return {"item_id": item, "depot_id": depot, "movement_type": kind, "quantity": qty,
            "movement_date": day}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path, kafka_bootstrap: str) -> Settings:
    tag = uuid.uuid4().hex[:8]
    made = Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        kafka_bootstrap=kafka_bootstrap, inventory_topic=f"inventory-{tag}",
        alerts_topic=f"alerts-{tag}", stream_dead_letter_topic=f"dlq-{tag}",
        stream_refresh_seconds=0.2, stream_metrics_port=0,
    )  # fmt: skip
    # Gold: 20 on hand, reorder point 10, safety stock 5, as of 2026-10-31, every pair.
    write_gold(made, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    return made


async def send(settings: Settings, *values: dict[str, Any] | bytes, partition: int | None = None
               ) -> None:  # fmt: skip
    assert settings.kafka_bootstrap
    kafka = producer(settings.kafka_bootstrap)
    await kafka.start()
    try:
        for value in values:
            raw = value if isinstance(value, bytes) else encode(value)
            await kafka.send_and_wait(settings.inventory_topic, raw, partition=partition)
    finally:
        await kafka.stop()


async def read_topic(settings: Settings, topic: str, *, at_least: int, timeout: float = 20.0
                     ) -> list[dict[str, Any]]:  # fmt: skip
    """Every message of partition 0 from the start: at least ``at_least`` of them (or what
    came within ``timeout``), and whatever else is there up to the end."""
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        tp = TopicPartition(topic, 0)
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for messages in (await reader.getmany(timeout_ms=200)).values():
                found += [json.loads(m.value) for m in messages]
            end = (await reader.end_offsets([tp]))[tp]
            if len(found) >= at_least and await reader.position(tp) >= end:
                break
        return found
    finally:
        await reader.stop()


async def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def running(
    settings: Settings, body: Callable[[StreamProcessor, asyncio.Task[None]], Awaitable[None]]
) -> StreamProcessor:
    processor = StreamProcessor(settings, today=lambda: date(2026, 11, 20))
    stop = asyncio.Event()
    task = asyncio.create_task(processor.run(stop))
    try:
        await body(processor, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        processor.close()
    return processor


def test_poison_is_dead_lettered_and_never_poisons_the_state(settings: Settings) -> None:
    poison = [
        b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"consumption",'
        b'"quantity":Infinity,"movement_date":"2026-11-01"}',
        b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"receipt",'
        b'"quantity":1e309,"movement_date":"2026-11-01"}',
        encode(movement("ITM001", "consumption", -4)),
        encode(movement("ITM001", "receipt", 10**12)),
        b"{not json",
        encode(movement("ITM777", "consumption", 1)),
    ]

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        await ensure_topics(str(settings.kafka_bootstrap), settings.inventory_topic)
        await send(settings, movement("ITM001", "consumption", 3), *poison,
                   movement("ITM001", "consumption", 8))  # fmt: skip
        alerts = await read_topic(settings, settings.alerts_topic, at_least=1)
        letters = await read_topic(settings, settings.stream_dead_letter_topic, at_least=6)
        assert [(a["item_id"], a["severity"], a["projected_position"]) for a in alerts] == [
            ("ITM001", "warning", 9.0)
        ]
        assert sorted(m["reason"] for m in letters) == sorted(
            ["non_finite_quantity", "non_finite_quantity", "non_positive_quantity",
             "absurd_quantity", "not_json", "unknown_item_depot"]
        )  # fmt: skip
        assert not task.done()
        await until(lambda: processor.dead_lettered == 6, "dead letters acknowledged")

    processor = asyncio.run(running(settings, scenario))
    assert processor.positions[("ITM001", "DEP01")].on_hand == 9.0
    assert sum(processor.rejected.values()) == 6


KILLER = textwrap.dedent(
    """
    import asyncio, json, os, signal, sys
    from aiokafka import AIOKafkaProducer
    from backend.events.stream import StreamProcessor
    from backend.settings import Settings

    settings = Settings(**json.loads(sys.argv[1]))
    original = AIOKafkaProducer.send

    async def send(self, topic, *args, **kwargs):
        if topic == settings.alerts_topic:  # the state is saved; the alert is not sent yet
            os.kill(os.getpid(), signal.SIGKILL)
        return await original(self, topic, *args, **kwargs)

    AIOKafkaProducer.send = send
    asyncio.run(StreamProcessor(settings).run())
    """
)


def test_sigkill_between_saving_the_state_and_sending_the_alert_loses_no_alert(
    settings: Settings, tmp_path: Path
) -> None:
    asyncio.run(ensure_topics(str(settings.kafka_bootstrap), settings.inventory_topic))
    asyncio.run(send(settings, movement("ITM001", "consumption", 11)))  # 20 -> 9: warning
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    fields = ["env", "lake_root", "warehouse_dir", "kafka_bootstrap", "inventory_topic",
              "alerts_topic", "stream_dead_letter_topic", "stream_refresh_seconds"]  # fmt: skip
    config = json.dumps({f: str(getattr(settings, f)) for f in fields})
    killed = subprocess.run(
        [sys.executable, str(script), config], cwd=REPO, timeout=60, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        alerts = await read_topic(settings, settings.alerts_topic, at_least=1)
        assert [(a["item_id"], a["severity"]) for a in alerts] == [("ITM001", "warning")]

    restarted = asyncio.run(running(settings, scenario))
    assert restarted.applied == 0  # the movement was not applied twice
    alerts = asyncio.run(read_topic(settings, settings.alerts_topic, at_least=1))
    assert len(alerts) == 1  # and its alert went out once


def test_a_kafka_error_on_the_alert_send_loses_no_alert_and_the_processor_reconnects(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AIOKafkaProducer.send
    failures: list[str] = []

    async def flaky_send(self: AIOKafkaProducer, topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic == settings.alerts_topic and not failures:
            failures.append(topic)
            raise KafkaConnectionError("injected: the broker went away")
        return await original(self, topic, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaProducer, "send", flaky_send)
    reconnects = REGISTRY.get_sample_value("nova_stream_reconnects_total") or 0.0

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        await ensure_topics(str(settings.kafka_bootstrap), settings.inventory_topic)
        await send(settings, movement("ITM001", "consumption", 11))
        alerts = await read_topic(settings, settings.alerts_topic, at_least=1)
        assert [(a["item_id"], a["severity"]) for a in alerts] == [("ITM001", "warning")]
        assert failures and not task.done()
        # After the reconnect it carries on with new movements.
        await send(settings, movement("ITM002", "consumption", 16))  # 20 -> 4: critical
        alerts = await read_topic(settings, settings.alerts_topic, at_least=2)
        assert [a["item_id"] for a in alerts] == ["ITM001", "ITM002"]

    processor = asyncio.run(running(settings, scenario))
    assert processor.applied == 2
    assert (REGISTRY.get_sample_value("nova_stream_reconnects_total") or 0.0) > reconnects


def test_every_partition_is_consumed_when_the_topic_appears_after_the_start(
    settings: Settings,
) -> None:
    pairs = [("ITM001", "DEP01"), ("ITM002", "DEP01"), ("ITM003", "DEP02")]

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            # The processor is up once it has created its alerts topic.
            deadline = time.monotonic() + 20
            while settings.alerts_topic not in await admin.list_topics():
                assert time.monotonic() < deadline, "the processor did not start"
                await asyncio.sleep(0.1)
            await admin.create_topics([NewTopic(settings.inventory_topic, 3, 1)])
        finally:
            await admin.close()
        for partition, (item, depot) in enumerate(pairs):
            await send(settings, movement(item, "consumption", 11, depot=depot),
                       partition=partition)  # fmt: skip
        alerts = await read_topic(settings, settings.alerts_topic, at_least=3)
        assert sorted((a["item_id"], a["depot_id"]) for a in alerts) == pairs

    processor = asyncio.run(running(settings, scenario))
    assert processor.next_offsets == {0: 1, 1: 1, 2: 1}


def test_a_newer_daily_run_keeps_the_movements_dated_after_it(settings: Settings) -> None:
    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        await ensure_topics(str(settings.kafka_bootstrap), settings.inventory_topic)
        await send(settings, movement("ITM001", "consumption", 3, day="2026-11-01"),
                   movement("ITM001", "consumption", 4, day="2026-11-02"))  # fmt: skip
        await until(lambda: processor.applied == 2, "two movements applied")
        # The run of 2026-11-01: its 17 on hand count 11-01's consumption, not 11-02's.
        write_gold(settings, "fct_reorder_points", reorder_rows(date(2026, 11, 1), on_hand=17.0),
                   SCHEMAS["fct_reorder_points"])  # fmt: skip
        write_gold_version(settings, "v2")
        await until(
            lambda: (getattr(processor, "_gold_version", None) or {}).get("version") == "v2",
            "the new gold version",
        )
        await send(settings, movement("ITM001", "consumption", 1, day="2026-11-03"))
        await until(lambda: processor.applied == 3, "the third movement")

    processor = asyncio.run(running(settings, scenario))
    assert processor.positions[("ITM001", "DEP01")].on_hand == 17.0 - 4 - 1


def test_movements_before_the_first_daily_run_wait_for_its_gold(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        kafka_bootstrap=kafka_bootstrap, inventory_topic=f"inventory-{tag}",
        alerts_topic=f"alerts-{tag}", stream_dead_letter_topic=f"dlq-{tag}",
        stream_refresh_seconds=0.2,
    )  # fmt: skip

    async def scenario(processor: StreamProcessor, task: asyncio.Task[None]) -> None:
        await ensure_topics(kafka_bootstrap, settings.inventory_topic)
        await send(settings, movement("ITM001", "consumption", 11))
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:  # the processor is up once it has created its alerts topic
            deadline = time.monotonic() + 20
            while settings.alerts_topic not in await admin.list_topics():
                assert time.monotonic() < deadline, "the processor did not start"
                await asyncio.sleep(0.1)
        finally:
            await admin.close()
        await asyncio.sleep(1.0)  # a few refreshes without gold
        write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
        alerts = await read_topic(settings, settings.alerts_topic, at_least=1)
        assert [(a["item_id"], a["projected_position"]) for a in alerts] == [("ITM001", 9.0)]

    processor = asyncio.run(running(settings, scenario))
    assert processor.positions[("ITM001", "DEP01")].on_hand == 9.0
