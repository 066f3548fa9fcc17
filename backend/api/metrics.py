"""Prometheus metrics of the API and a pure-ASGI middleware that records requests."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.events.metrics import ALERTS_FANNED, CONSUMER_LAG

__all__ = ["ALERTS_FANNED", "CONSUMER_LAG", "LATENCY", "REQUESTS", "WS_CLIENTS", "WS_DROPPED"]

REQUESTS = Counter(
    "nova_api_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "nova_api_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# With several workers (multiprocess mode) the gauge is the sum over the live workers.
WS_CLIENTS = Gauge(
    "nova_ws_clients", "Connected WebSocket clients of /ws/alerts", multiprocess_mode="livesum"
)
WS_DROPPED = Counter("nova_ws_dropped_total", "WebSocket clients dropped for a full queue")


class MetricsMiddleware:
    """Counts and times HTTP requests by route template (not raw path: bounded labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Labelled children looked up once: labels() takes a lock and builds a tuple.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            children = self._children.get((method, name, status))
            if children is None:
                children = (
                    REQUESTS.labels(method, name, str(status)),
                    LATENCY.labels(method, name),
                )
                self._children[(method, name, status)] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - began)
