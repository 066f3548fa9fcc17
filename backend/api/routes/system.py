"""Health and Prometheus metrics (no key needed: probes and scrapers call them)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.api.deps import CacheDep, LakeDep
from backend.api.schemas import DependencyHealth, Health
from backend.lake import delta

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
async def health(request: Request, lake: LakeDep, cache: CacheDep) -> Health:
    """Each dependency's state and the gold version; `degraded` when one is down."""
    gold_uri = delta.table_uri("gold", settings=lake.settings)
    try:
        reachable = await asyncio.to_thread(delta.is_dir, gold_uri, lake.settings)
        lake_state = DependencyHealth(
            status="ok" if reachable else "down",
            detail=None if reachable else f"no gold tables at {gold_uri}",
        )
    except OSError as exc:
        lake_state = DependencyHealth(status="down", detail=str(exc))
    version = await lake.versions.current(lake.pool)
    redis_state = await cache.ping()
    feed = request.app.state.feed
    kafka_status: Literal["ok", "down", "disabled"] = (
        "ok" if feed.status == "starting" else feed.status
    )
    dependencies = {
        "lake": lake_state,
        "redis": DependencyHealth(status=redis_state),
        "kafka": DependencyHealth(status=kafka_status, detail=feed.detail),
    }
    degraded = any(d.status == "down" for d in dependencies.values())
    return Health(
        status="degraded" if degraded else "ok",
        gold_version=str(version["version"]) if version else None,
        gold_published_at=str(version.get("published_at")) if version else None,
        dependencies=dependencies,
    )


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
