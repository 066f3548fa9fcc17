"""Small helpers over aiokafka shared by producers and consumers.

Every client built here authenticates the way the settings say (``NOVA_KAFKA_SASL_*``:
SASL PLAIN or SCRAM, optionally over TLS); without them it speaks PLAINTEXT, as the tests'
broker does. Callers that hold a Settings pass it; the others get the process's settings.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from backend.settings import Settings, get_settings

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


def security(settings: Settings | None = None) -> dict[str, Any]:
    """aiokafka keyword arguments for authentication (empty without SASL settings)."""
    return (settings or get_settings()).kafka_security


def admin(bootstrap: str, settings: Settings | None = None) -> Any:
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security(settings))


async def ensure_topics(
    bootstrap: str, *topics: str, partitions: int = 1, settings: Settings | None = None
) -> None:
    """Create the topics if missing (production would provision them; harmless there)."""
    from aiokafka.admin import NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    client = admin(bootstrap, settings)
    await client.start()
    try:
        existing = set(await client.list_topics())
        missing = [NewTopic(t, partitions, 1) for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await client.create_topics(missing)
    finally:
        await client.close()


def producer(bootstrap: str, settings: Settings | None = None, **options: Any) -> Any:
    """A producer that waits for every replica (no idempotence: Tansu lacks InitProducerId)."""
    from aiokafka import AIOKafkaProducer

    defaults = {"acks": "all", "linger_ms": 0}
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, **{**defaults, **security(settings), **options}
    )


def consumer(bootstrap: str, settings: Settings | None = None, **options: Any) -> Any:
    """A consumer with the settings' authentication; ``options`` go to aiokafka."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(bootstrap_servers=bootstrap, **{**security(settings), **options})
