"""SASL settings reach the wire: against a broker without SASL (the tests' Tansu) a client
configured for SASL is refused at the handshake, and the stream processor keeps retrying
instead of exiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY

from backend.events.kafka import producer
from backend.events.stream import StreamProcessor
from backend.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def sasl_settings(tmp_path: Path, bootstrap: str) -> Settings:
    return Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        kafka_bootstrap=bootstrap, kafka_sasl_mechanism="PLAIN", kafka_sasl_username="nova",
        kafka_sasl_password="a-long-kafka-password", stream_backoff_max_seconds=0.5,
    )  # fmt: skip


def test_a_sasl_client_performs_the_handshake(
    tmp_path: Path, kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sasl_settings(tmp_path, kafka_bootstrap)

    async def start() -> None:
        kafka = producer(kafka_bootstrap, settings, request_timeout_ms=5000)
        try:
            await kafka.start()
        finally:
            await kafka.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(start())
    assert "UnsupportedSaslMechanism" in caplog.text  # the broker saw a SASL handshake


def test_the_stream_retries_when_kafka_refuses_it(tmp_path: Path, kafka_bootstrap: str) -> None:
    settings = sasl_settings(tmp_path, kafka_bootstrap)
    before = REGISTRY.get_sample_value("nova_stream_reconnects_total") or 0.0

    async def scenario() -> None:
        processor = StreamProcessor(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(processor.run(stop))
        try:
            while (REGISTRY.get_sample_value("nova_stream_reconnects_total") or 0.0) < before + 2:
                assert not task.done(), "the processor exited"
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            processor.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
