"""Kafka clients take their authentication from the settings (NOVA_KAFKA_SASL_*)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.events.kafka import admin, consumer, producer, security
from backend.settings import Settings

pytestmark = pytest.mark.reliability
SASL = {"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "nova",
        "kafka_sasl_password": "a-long-kafka-password"}  # fmt: skip


def client_options(client: Any) -> dict[str, Any]:
    inner = client._client if hasattr(client, "_client") else client.client
    return {k: v for k, v in vars(inner).items() if "sasl_" in k or "security" in k}


def test_without_sasl_settings_clients_speak_plaintext() -> None:
    assert security(Settings()) == {}

    async def build() -> dict[str, Any]:
        made = producer("127.0.0.1:1", Settings())
        try:
            return client_options(made)
        finally:
            await made.stop()

    assert asyncio.run(build())["_security_protocol"] == "PLAINTEXT"


def test_sasl_settings_reach_producers_consumers_and_admin_clients() -> None:
    settings = Settings(**SASL)

    async def build() -> list[dict[str, Any]]:
        made = [producer("127.0.0.1:1", settings), consumer("127.0.0.1:1", settings)]
        found = [client_options(c) for c in made]
        for c in made:
            await c.stop()
        found.append(client_options(admin("127.0.0.1:1", settings)))
        return found

    for options in asyncio.run(build()):
        assert options["_security_protocol"] == "SASL_PLAINTEXT"
        assert options["_sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["_sasl_plain_username"] == "nova"
        assert options["_sasl_plain_password"] == "a-long-kafka-password"


def test_sasl_over_tls_and_incomplete_settings() -> None:
    tls = Settings(**SASL, kafka_sasl_tls=True).kafka_security
    assert tls["security_protocol"] == "SASL_SSL" and tls["ssl_context"] is not None
    with pytest.raises(ValueError, match="NOVA_KAFKA_SASL_PASSWORD"):
        _ = Settings(kafka_sasl_mechanism="PLAIN", kafka_sasl_username="nova").kafka_security


def test_the_password_is_a_secret() -> None:
    settings = Settings(**SASL)
    assert "a-long-kafka-password" not in repr(settings)
    assert "a-long-kafka-password" not in settings.model_dump_json()
