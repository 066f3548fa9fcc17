"""Small helpers over aiokafka shared by producers and consumers."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, default=str, separators=(",", ":")).encode()


def decode(value: bytes | None) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (logged, never fatal to a consumer)."""
    if value is None:
        return None
    try:
        payload = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("skipping a message that is not JSON: %r", value[:80])
        return None
    return payload if isinstance(payload, dict) else None


async def ensure_topics(bootstrap: str, *topics: str, partitions: int = 1) -> None:
    """Create the topics if missing (production would provision them; harmless there)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, 1) for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def producer(bootstrap: str) -> Any:
    """A producer that waits for every replica (no idempotence: Tansu lacks InitProducerId)."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
