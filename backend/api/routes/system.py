"""Health, probes and Prometheus metrics (no key needed: probes and scrapers call them).

Anonymous callers get states, never exception text or paths: those go to the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from backend.api.deps import CacheDep, LakeDep
from backend.api.http import problem
from backend.api.schemas import DependencyHealth, Health, Probe
from backend.lake import delta
from backend.observability.metrics import exposition

router = APIRouter(tags=["system"])
log = logging.getLogger(__name__)


async def _gold_readable(lake: LakeDep) -> bool:
    """Gold's directory exists and the published version can be read."""
    gold_uri = delta.table_uri("gold", settings=lake.settings)
    try:
        reachable = await asyncio.to_thread(delta.is_dir, gold_uri, lake.settings)
    except OSError as exc:
        log.warning("gold unreadable at %s: %s", gold_uri, exc)
        return False
    if not reachable:
        log.warning("no gold tables at %s", gold_uri)
        return False
    return await lake.versions.current(lake.pool) is not None


@router.get("/livez", response_model=Probe)
async def livez() -> Probe:
    """The process answers (a liveness probe: restart it only when this fails)."""
    return Probe(status="ok")


@router.get(
    "/readyz",
    response_model=Probe,
    responses={503: {"description": "Gold cannot be read: send no traffic here."}},
)
async def readyz(lake: LakeDep) -> Probe | JSONResponse:
    """Ready to serve: gold is readable and has a published version (else 503)."""
    if not await _gold_readable(lake):
        return problem(503, "gold cannot be read yet", instance="/readyz", kind="not-ready")
    return Probe(status="ok")


@router.get("/health", response_model=Health)
async def health(request: Request, lake: LakeDep, cache: CacheDep) -> Health:
    """Each dependency's state and the gold version; `degraded` when one is down."""
    gold_uri = delta.table_uri("gold", settings=lake.settings)
    try:
        reachable = await asyncio.to_thread(delta.is_dir, gold_uri, lake.settings)
    except OSError as exc:
        log.warning("gold unreadable at %s: %s", gold_uri, exc)
        reachable = False
    lake_state = DependencyHealth(
        status="ok" if reachable else "down",
        detail=None if reachable else "no readable gold tables",
    )
    version = await lake.versions.current(lake.pool)
    redis_state = await cache.ping()
    feed = request.app.state.feed
    kafka_status: Literal["ok", "down", "disabled"] = (
        "ok" if feed.status == "starting" else feed.status
    )
    dependencies = {
        "lake": lake_state,
        "redis": DependencyHealth(status=redis_state),
        "kafka": DependencyHealth(status=kafka_status),
    }
    degraded = any(d.status == "down" for d in dependencies.values())
    return Health(
        status="degraded" if degraded else "ok",
        gold_version=str(version["version"]) if version else None,
        gold_published_at=str(version.get("published_at")) if version else None,
        dependencies=dependencies,
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, lake: LakeDep) -> Response:
    """Prometheus text format."""
    # The API's metrics summed over its workers, and the pipeline's (latest run reports,
    # served gold) read from the lake: backend/observability/metrics.py.
    version = await lake.versions.current(lake.pool)
    body = await asyncio.to_thread(exposition, request.app.state.pipeline_metrics, version)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
