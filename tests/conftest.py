"""Shared fixtures: isolated lake settings and real services started for the session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.settings import Settings
from tests.services.kafka import kafka_broker
from tests.services.postgres import postgres_server
from tests.services.redis import RedisServer, redis_server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing every path into a temp dir; the ERP is a SQLite file there."""
    return Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "warehouse",
        erp_url=f"sqlite:///{tmp_path / 'erp.sqlite'}",
    )


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A real PostgreSQL: the one NOVA_TEST_PG_URL names, or a throwaway server."""
    given = os.environ.get("NOVA_TEST_PG_URL")
    if given:
        yield given
        return
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database on the session's server for one test, dropped afterwards."""
    name = f"nova_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    """A real Redis server for the session (tests may stop and restart it)."""
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real Kafka-protocol broker (Tansu) for the session."""
    with kafka_broker() as bootstrap:
        yield bootstrap
