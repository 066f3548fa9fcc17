"""The FastAPI app: assembles routers, middleware and the services they share.

Built by :func:`create_app` (``uvicorn --factory backend.api.main:create_app``), so importing
this module reads no settings and opens nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from backend.api.auth import CSRF_HEADER, Authenticator
from backend.api.cache import Cache
from backend.api.fastpath import CachedResponses
from backend.api.http import (
    ClientLimits,
    ETagMiddleware,
    document_problems,
    install_problem_handlers,
)
from backend.api.hub import AlertHub
from backend.api.lake import GoldLake
from backend.api.metrics import MetricsMiddleware
from backend.api.planning import install as install_planning
from backend.api.routes import (
    actions,
    alert_actions,
    alerts,
    auth,
    depots,
    forecasts,
    inventory,
    items,
    keys,
    kpis,
    orders,
    reorder_points,
    runs,
    series,
    system,
    towers,
    users,
    ws,
)
from backend.appdb import upgrade
from backend.appdb.server_secret import server_secret
from backend.events.feed import AlertFeed
from backend.observability.metrics import PipelineMetrics, mark_process_dead
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
# How uvicorn serves /ws/alerts (nova serve and the test server): the sans-I/O websockets
# protocol writes a frame straight to the transport (the legacy one awaits a drain per
# send), and no per-message deflate: alerts are a few hundred bytes sent to many clients,
# so compressing each client's copy costs more CPU than it saves bytes.
UVICORN_WS_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


def operation_id(route: APIRoute) -> str:
    """Readable operation ids: the handler's name (``list_items``, ``get_item``), unique."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.feed.start()
        try:
            yield
        finally:
            await app.state.feed.stop()
            await app.state.cache.close()
            app.state.lake.close()
            app.state.appdb.dispose()
            mark_process_dead()  # this worker's live gauges leave the served sums

    app = FastAPI(
        title="Nova Corrente API",
        version="1.0.0",
        summary="Gold tables of the Nova Corrente lakehouse and live stock alerts.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    cache = Cache(settings.redis_url, ttl_seconds=settings.cache_ttl_seconds)
    # The schema first (idempotent; API workers starting together take turns).
    appdb = upgrade(settings)
    authenticator = Authenticator(
        appdb,
        server_secret(settings),
        ttl=settings.auth_cache_seconds,
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    hub = AlertHub(
        queue_size=settings.ws_queue_size,
        heartbeat_seconds=settings.ws_heartbeat_seconds,
        buffer_size=settings.ws_resume_buffer,
        authorize=authenticator.still_valid,
        recheck_seconds=settings.ws_auth_recheck_seconds,
    )
    lake = GoldLake(settings, cache)
    verifier = authenticator.keys
    app.state.settings = settings
    app.state.appdb = appdb
    app.state.auth = authenticator
    app.state.cache = cache
    app.state.lake = lake
    app.state.verifier = verifier
    app.state.hub = hub
    app.state.pipeline_metrics = PipelineMetrics(settings)
    app.state.feed = AlertFeed(
        settings.kafka_bootstrap,
        settings.alerts_topic,
        hub,
        backlog=settings.ws_resume_buffer,
        settings=settings,
    )

    # Innermost first: cache hits skip the router but still get ETags, limits, CORS headers
    # and metrics.
    app.add_middleware(CachedResponses, lake=lake, cache=cache, verifier=verifier)
    app.add_middleware(ETagMiddleware)
    app.add_middleware(
        ClientLimits,
        per_minute=settings.api_rate_per_minute,
        burst=settings.api_rate_burst,
        concurrent=settings.api_max_in_flight,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER, "Idempotency-Key"],
    )
    app.add_middleware(MetricsMiddleware)

    install_planning(app)
    for module in (
        auth,
        items,
        towers,
        depots,
        inventory,
        forecasts,
        reorder_points,
        alerts,
        actions,
        series,
        kpis,
        runs,
        keys,
        users,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (alert_actions, orders):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(forecasts.accuracy_router, prefix=API_PREFIX)
    app.include_router(system.router)
    app.include_router(ws.router)

    install_problem_handlers(app)
    document_problems(app)
    return app
