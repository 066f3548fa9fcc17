"""One real API server per module, over a small gold lake, with Redis and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from backend.api.auth import create_key
from backend.events.kafka import ensure_topics
from backend.settings import Settings
from tests.services.api import ApiServer, api_server
from tests.services.gold import build_gold
from tests.services.redis import RedisServer


@dataclass
class Api:
    server: ApiServer
    settings: Settings
    viewer: str
    admin: str

    def client(self, token: str | None = "viewer") -> httpx.Client:
        headers = {}
        if token:
            key = {"viewer": self.viewer, "admin": self.admin}.get(token, token)
            headers["Authorization"] = f"Bearer {key}"
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, redis: RedisServer, kafka_bootstrap: str
) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        redis_url=redis.url,
        kafka_bootstrap=kafka_bootstrap,
        gold_version_poll_seconds=0.1,
        ws_queue_size=64,
        ws_heartbeat_seconds=1.0,
        cors_origins=["https://dashboard.example"],
        alerts_topic=f"stock-alerts-{uuid.uuid4().hex[:8]}",
    )
    asyncio.run(ensure_topics(kafka_bootstrap, settings.alerts_topic))
    build_gold(settings, version=f"v-{root.name}")
    _, viewer = create_key(settings.api_keys_path, role="viewer", name="test viewer")
    _, admin = create_key(settings.api_keys_path, role="admin", name="test admin")
    with api_server(settings) as server:
        yield Api(server, settings, viewer, admin)
