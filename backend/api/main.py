"""The FastAPI app: assembles routers, middleware and the services they share.

Built by :func:`create_app` (``uvicorn --factory backend.api.main:create_app``), so importing
this module reads no settings and opens nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from backend.api.auth import KeyVerifier
from backend.api.cache import Cache
from backend.api.fastpath import CachedResponses
from backend.api.hub import AlertHub
from backend.api.lake import GoldLake
from backend.api.metrics import MetricsMiddleware
from backend.api.planning import install as install_planning
from backend.api.routes import (
    alert_actions,
    alerts,
    depots,
    forecasts,
    inventory,
    items,
    keys,
    orders,
    reorder_points,
    system,
    towers,
    ws,
)
from backend.events.feed import AlertFeed
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
# How uvicorn serves /ws/alerts (nova serve and the test server): the sans-I/O websockets
# protocol writes a frame straight to the transport (the legacy one awaits a drain per
# send), and no per-message deflate: alerts are a few hundred bytes sent to many clients,
# so compressing each client's copy costs more CPU than it saves bytes.
UVICORN_WS_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


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

    app = FastAPI(
        title="Nova Corrente API",
        version="1.0.0",
        summary="Gold tables of the Nova Corrente lakehouse and live stock alerts.",
        lifespan=lifespan,
    )
    cache = Cache(settings.redis_url, ttl_seconds=settings.cache_ttl_seconds)
    hub = AlertHub(
        queue_size=settings.ws_queue_size,
        heartbeat_seconds=settings.ws_heartbeat_seconds,
        buffer_size=settings.ws_resume_buffer,
    )
    lake = GoldLake(settings, cache)
    verifier = KeyVerifier(settings.api_keys_path)
    app.state.settings = settings
    app.state.cache = cache
    app.state.lake = lake
    app.state.verifier = verifier
    app.state.hub = hub
    app.state.feed = AlertFeed(
        settings.kafka_bootstrap, settings.alerts_topic, hub, backlog=settings.ws_resume_buffer
    )

    # Innermost first: cache hits skip the router but still get CORS headers and metrics.
    app.add_middleware(CachedResponses, lake=lake, cache=cache, verifier=verifier)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET"],
        allow_headers=["Authorization"],
    )
    app.add_middleware(MetricsMiddleware)

    install_planning(app)
    for module in (items, towers, depots, inventory, forecasts, reorder_points, alerts, keys):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (alert_actions, orders):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(forecasts.accuracy_router, prefix=API_PREFIX)
    app.include_router(system.router)
    app.include_router(ws.router)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's shape (a list of problems under `detail`), with a one-line message too.
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            status_code=422,
            content={
                "detail": jsonable_encoder(problems),
                "message": f"invalid {where}: {first.get('msg', '')}",
            },
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    return app
