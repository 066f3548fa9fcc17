"""One real API server per module, over a small gold lake, with Redis, Kafka and a
PostgreSQL app database (keys and users made there)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from backend.appdb import make_engine, upgrade
from backend.appdb.keys import create_key
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
    app_db: sa.engine.Engine

    def client(self, token: str | None = "viewer") -> httpx.Client:
        headers = {}
        if token:
            key = {"viewer": self.viewer, "admin": self.admin}.get(token, token)
            headers["Authorization"] = f"Bearer {key}"
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database on the session's PostgreSQL for one module, dropped afterwards."""
    name = f"nova_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="module")
def app_db_url(pg_server_url: str) -> Iterator[str]:
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    kafka_bootstrap: str,
    app_db_url: str,
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
        app_db_url=SecretStr(app_db_url),
        ws_auth_recheck_seconds=0.5,
        auth_cache_seconds=1.0,
    )
    asyncio.run(ensure_topics(kafka_bootstrap, settings.alerts_topic))
    build_gold(settings, version=f"v-{root.name}")
    engine = upgrade(settings, make_engine(settings))
    _, viewer = create_key(engine, role="viewer", name="test viewer")
    _, admin = create_key(engine, role="admin", name="test admin")
    try:
        with api_server(settings) as server:
            yield Api(server, settings, viewer, admin, engine)
    finally:
        engine.dispose()
