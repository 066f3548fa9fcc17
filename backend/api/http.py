"""HTTP conventions shared by every route: problem details, ETags and per-client limits.

- Errors are RFC 9457 ``application/problem+json`` (``type``, ``title``, ``status``,
  ``detail``, ``instance``; validation errors add ``errors``). No exception text or path
  ever reaches the client: a 5xx says only that it failed and the request id to quote.
- Every successful GET carries a weak ``ETag`` computed from the body it sends, so it
  changes exactly when the gold version or the app state behind the answer changes, and a
  matching ``If-None-Match`` is answered ``304`` without a body. ``Cache-Control: private,
  no-cache`` lets a browser keep the body and revalidate it (responses depend on the caller).
- Per-client limits: a token bucket of requests per minute and a cap on requests in flight,
  keyed on the caller's credential (a hash of the bearer key or session cookie) or, for
  anonymous callers, the client address. Over either: ``429`` with ``Retry-After``.
  The state is per API process: with N workers a client gets up to N times the rate.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.glossary import document_fields
from backend.api.links import add_links

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://nova-corrente.example/problems/"
SESSION_COOKIE = b"nova_session"
# The caller of the request being served (a digest of its key or session, or its address):
# set by ClientLimits, read by GoldLake to share its query workers fairly between callers.
CURRENT_CLIENT: ContextVar[bytes] = ContextVar("nova_client", default=b"")


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem response; ``kind`` names the problem type (a stable slug)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 whose ``Allow`` lists the methods of every route on the path.

    Starlette names only the first route it tried: with ``GET /orders`` and ``POST /orders``
    as two routes, it would answer ``Allow: POST`` to a PUT (RFC 9110 wants them all).
    """
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "Method Not Allowed"
    return problem(
        405, detail, instance=request.url.path, headers={"Allow": ", ".join(sorted(methods))}
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(405, method_not_allowed)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(
            exc.status_code, detail, instance=request.url.path, headers=exc.headers or None
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return problem(
            422,
            f"invalid {where}: {first.get('msg', '')}",
            instance=request.url.path,
            kind="validation-error",
            errors=[
                {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
                for e in errors
            ],
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s", incident, request.url.path)
        return problem(
            500,
            f"internal error; quote incident {incident} to the operators",
            instance=request.url.path,
            incident=incident,
        )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    wanted = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == wanted for tag in if_none_match.split(b","))


class ETagMiddleware:
    """Weak ETags on successful GETs, and ``304 Not Modified`` on a matching If-None-Match."""

    def __init__(
        self, app: ASGIApp, *, cache_control: str = "private, no-cache", remembered: int = 512
    ) -> None:
        self.app = app
        self.cache_control = cache_control.encode()
        # Cached answers are the same bytes object on every replay: their tag is computed
        # once (keyed by identity, checked with `is`, so a new body is never mistaken).
        self._tags: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()
        self.remembered = remembered

    def _etag(self, body: bytes) -> bytes:
        known = self._tags.get(id(body))
        if known is not None and known[0] is body:
            return known[1]
        etag = b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        if len(body) > 4096:  # small bodies hash faster than they are looked up
            self._tags[id(body)] = (body, etag)
            while len(self._tags) > self.remembered:
                self._tags.popitem(last=False)
        return etag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    await send(message)
                    return
                start = message
                return
            if start is None:  # not a 200: pass the body through untouched
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            etag = self._etag(body)
            headers = [
                (k, v)
                for k, v in start.get("headers", [])
                if k.lower() not in (b"etag", b"cache-control")
            ]
            headers += [(b"etag", etag), (b"cache-control", self.cache_control)]
            wanted = _header(scope, b"if-none-match")
            if wanted is not None and _matches(wanted, etag):
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


class _Bucket:
    __slots__ = ("in_flight", "tokens", "updated")

    def __init__(self, capacity: float, now: float) -> None:
        self.tokens = capacity
        self.updated = now
        self.in_flight = 0


class ClientLimits:
    """Per-client request rate (token bucket) and concurrency caps; 429 + Retry-After."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        concurrent: int,
        exempt_paths: tuple[str, ...] = ("/livez", "/readyz", "/health", "/metrics"),
        max_clients: int = 50_000,
    ) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.capacity = float(max(burst, 1))
        self.concurrent = concurrent
        self.exempt = exempt_paths
        self.max_clients = max_clients
        self._clients: OrderedDict[bytes, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0 or self.concurrent > 0

    def _client_key(self, scope: Scope) -> bytes:
        authorization = _header(scope, b"authorization")
        if authorization:
            return b"k" + hashlib.blake2b(authorization, digest_size=16).digest()
        cookie = _header(scope, b"cookie")
        if cookie:
            for part in cookie.split(b";"):
                name, _, value = part.strip().partition(b"=")
                if name == SESSION_COOKIE and value:
                    return b"s" + hashlib.blake2b(value, digest_size=16).digest()
        client = scope.get("client")
        return b"a" + (client[0].encode() if client else b"?")

    def _bucket(self, key: bytes, now: float) -> _Bucket:
        bucket = self._clients.get(key)
        if bucket is None:
            # Oldest idle clients go first; a flood of new keys cannot reset a busy one's
            # counters because in-flight clients are moved to the end on every request.
            while len(self._clients) >= self.max_clients:
                self._clients.popitem(last=False)
            bucket = self._clients[key] = _Bucket(self.capacity, now)
        else:
            self._clients.move_to_end(key)
        return bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = self._client_key(scope)
        token = CURRENT_CLIENT.set(client)
        try:
            if not self.enabled or scope["path"] in self.exempt:
                await self.app(scope, receive, send)
            else:
                await self._limited(client, scope, receive, send)
        finally:
            CURRENT_CLIENT.reset(token)

    async def _limited(self, client: bytes, scope: Scope, receive: Receive, send: Send) -> None:
        now = time.monotonic()
        bucket = self._bucket(client, now)
        if self.rate > 0:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1:
                wait = math.ceil((1 - bucket.tokens) / self.rate)
                await self._refuse(scope, send, wait, "too many requests for this client")
                return
            bucket.tokens -= 1
        if self.concurrent > 0 and bucket.in_flight >= self.concurrent:
            await self._refuse(scope, send, 1, "too many requests in flight for this client")
            return
        bucket.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            bucket.in_flight -= 1

    async def _refuse(self, scope: Scope, send: Send, wait: int, why: str) -> None:
        response = problem(
            429,
            f"{why}; retry after {wait} s",
            instance=scope["path"],
            kind="rate-limited",
            headers={"Retry-After": str(wait)},
        )
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem: every error the API answers has this shape.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem.",
            "examples": [PROBLEM_BASE + "not-found"],
        },
        "title": {
            "type": "string",
            "description": "The HTTP status phrase.",
            "examples": ["Not Found"],
        },
        "status": {"type": "integer", "description": "The HTTP status code.", "examples": [404]},
        "detail": {
            "type": "string",
            "description": "What went wrong and what to do, for a person.",
            "examples": ["no item 'ITM-404'"],
        },
        "instance": {
            "type": "string",
            "description": "The request path.",
            "examples": ["/api/v1/items/ITM-404"],
        },
        "errors": {
            "type": "array",
            "description": "Validation errors (422 only): where, and why.",
            "items": {"type": "object", "additionalProperties": True},
        },
        "incident": {
            "type": "string",
            "description": "500 only: the id to quote to the operators.",
        },
    },
}
COMMON_PROBLEMS = {
    "429": "Too many requests from this client: wait for Retry-After seconds.",
    "500": "Unexpected failure; the body names an incident id, never internals.",
}
PROTECTED_PROBLEMS = {
    "401": "Not signed in, or the API key is missing, invalid or revoked.",
    "403": "Signed in, but the role or depot scope does not allow it (or the CSRF token is missing).",
}


def document_problems(app: FastAPI) -> None:
    """Every error response in the schema is ``application/problem+json`` with ``Problem``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError", "Message"):
            components.pop(name, None)
        ref = {"$ref": "#/components/schemas/Problem"}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                extra = dict(COMMON_PROBLEMS)
                if path.startswith("/api/") and not path.endswith("/auth/login"):
                    extra.update(PROTECTED_PROBLEMS)
                for status, description in extra.items():
                    responses.setdefault(status, {"description": description})
                for status, response in responses.items():
                    if status[0] in "45":
                        response["content"] = {PROBLEM_JSON: {"schema": ref}}
        app.openapi_schema = add_links(document_fields(schema))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
