"""Cache hits answered in front of the framework.

FastAPI resolves and validates every query parameter and dependency of a route on each
request, which costs several times more than returning a cached body. This middleware
remembers, for each exact path and query string that a route answered with 200 from the
cache (:meth:`GoldLake.cached`), the cache key it used; the next identical request with a
key the verifier already knows to be live is answered from the in-process cache layer
without entering the router. Everything else (first sight of a query, an unknown or expired
API key, a new gold version, an evicted or expired body, invalid input) goes through
FastAPI as usual, so validation and auth behave exactly as before: a query string only
becomes known after FastAPI accepted it, and its answer depends on nothing but the path,
the query and a live key (every cached route is open to any live key).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:  # lake.py imports this module
    from backend.api.auth import KeyVerifier
    from backend.api.cache import Cache
    from backend.api.lake import GoldLake

# Set for the duration of a request going through FastAPI: GoldLake.cached notes there the
# gold version and cache key it answered from.
_NOTED: ContextVar[list[tuple[str, str]] | None] = ContextVar("nova_cache_noted", default=None)


def note_cache_key(version: str, key: str) -> None:
    noted = _NOTED.get()
    if noted is not None:
        noted.append((version, key))


def bearer_token(scope: Scope) -> str | None:
    """The credentials of the first Authorization header, parsed as FastAPI's HTTPBearer does."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


class CachedResponses:
    def __init__(
        self,
        app: ASGIApp,
        *,
        lake: GoldLake,
        cache: Cache,
        verifier: KeyVerifier,
        max_entries: int = 4096,
    ) -> None:
        self.app = app
        self.lake = lake
        self.cache = cache
        self.verifier = verifier
        self.max_entries = max_entries
        # (path, query string) -> (gold version, cache key, the route, for metrics labels)
        self._known: dict[tuple[str, bytes], tuple[str, str, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        where = (scope["path"], scope["query_string"])
        entry = self._known.get(where)
        if entry is not None and await self._answer(scope, send, *entry):
            return
        noted: list[tuple[str, str]] = []
        reset = _NOTED.set(noted)
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _NOTED.reset(reset)
        route = scope.get("route")
        if status == 200 and len(noted) == 1 and route is not None:
            if len(self._known) >= self.max_entries:
                self._known.clear()
            self._known[where] = (*noted[0], route)

    async def _answer(self, scope: Scope, send: Send, version: str, key: str, route: Any) -> bool:
        token = bearer_token(scope)
        if token is None:
            return False
        known, api_key = self.verifier.cached(token)
        if not known or api_key is None or version != await self.lake.version():
            return False
        body = self.cache.local(key)
        if body is None:
            return False
        scope["route"] = route  # for the metrics middleware's route label
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True
