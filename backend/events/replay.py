"""A demo producer: replays the ERP's stock movements of a date range to `inventory-events`,
the way an ERP integration would emit them."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from backend.events.kafka import encode, ensure_topics, producer
from backend.settings import Settings


def read_movements(
    url: str, start: date, end: date, limit: int | None = None
) -> list[dict[str, Any]]:
    """Movements dated in [start, end], in posting order (bound parameters)."""
    engine = sa.create_engine(url)
    query = sa.text(
        "select movement_id, item_id, depot_id, tower_id, quantity, movement_type, "
        "movement_date, updated_at from stock_movements "
        "where movement_date >= :start and movement_date < :stop order by updated_at, movement_id"
        + (" limit :limit" if limit else "")
    )
    params: dict[str, Any] = {"start": start, "stop": end + timedelta(days=1)}
    if limit:
        params["limit"] = limit
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query, params)]
    finally:
        engine.dispose()


async def replay(
    settings: Settings, movements: list[dict[str, Any]], *, rate: float | None = None
) -> int:
    """Send the movements, at most ``rate`` per second (None: as fast as acknowledged)."""
    bootstrap = settings.kafka_bootstrap
    if not bootstrap:
        raise RuntimeError("replaying movements needs Kafka: set NOVA_KAFKA_BOOTSTRAP")
    await ensure_topics(bootstrap, settings.inventory_topic)
    kafka = producer(bootstrap)
    await kafka.start()
    began = time.monotonic()
    try:
        for n, movement in enumerate(movements):
            if rate:
                wait = began + n / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            key = f"{movement['item_id']}|{movement['depot_id']}".encode()
            await kafka.send_and_wait(settings.inventory_topic, encode(movement), key=key)
    finally:
        await kafka.stop()
    return len(movements)
