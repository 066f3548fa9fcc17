"""Cache hits answered in front of the framework.

FastAPI resolves and validates every query parameter and dependency of a route on each
request, which costs several times more than returning a cached body. This middleware
remembers, for each exact path and query string that a route answered with 200 from the
cache (:meth:`GoldLake.cached`), the cache key it used; the next identical request with a
key the verifier already knows to be live is answered from the in-process cache layer
without entering the router. Entries are kept per depot scope of the key that made them,
and only requests authenticated by a bearer key are remembered or answered here: a
session (cookie) always goes through FastAPI, so a scoped person's body is never served
to anyone else, nor another scope's body to them. Everything else (first sight of a query, an unknown or expired
API key, a new gold version, an evicted or expired body, invalid input) goes through
FastAPI as usual, so validation and auth behave exactly as before: a query string only
becomes known after FastAPI accepted it, and its answer depends on nothing but the path,
the query and the scope of a live key (every cached route is open to any live key).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.auth import key_principal

if TYPE_CHECKING:  # lake.py imports this module
    from backend.api.auth import KeyVerifier
    from backend.api.cache import Cache
    from backend.api.lake import GoldLake
    from backend.appdb.keys import KeyInfo

# What a guard returns must be equal for a remembered body to be replayed.
Guard = Callable[[], object]
Noted = tuple[str, str, Guard | None, object]

# Set for the duration of a request going through FastAPI: GoldLake.cached notes there the
# gold version and cache key it answered from.
_NOTED: ContextVar[list[Noted] | None] = ContextVar("nova_cache_noted", default=None)


def note_cache_key(version: str, key: str, guard: Guard | None = None) -> None:
    """Let the fast path replay the body cached under ``key`` while the gold version is
    ``version`` and (for an answer that also depends on other state) ``guard()`` still
    returns what it returns now."""
    noted = _NOTED.get()
    if noted is not None:
        noted.append((version, key, guard, guard() if guard is not None else None))


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
        # (path, query string, scope) -> (gold version, cache key, guard, its value, the route)
        self._known: OrderedDict[
            tuple[str, bytes, str], tuple[str, str, Guard | None, object, Any]
        ] = OrderedDict()

    def _live_key(self, scope: Scope) -> KeyInfo | None:
        """The live key of the request's bearer token, if the verifier knows it already."""
        token = bearer_token(scope)
        if token is None:
            return None
        known, key = self.verifier.cached(token)
        return key if known else None

    @staticmethod
    def _scope_of(key: KeyInfo) -> str:
        return key_principal(key).scope_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key = self._live_key(scope)
        where = (scope["path"], scope["query_string"], self._scope_of(key)) if key else None
        entry = self._known.get(where) if where else None
        if entry is not None and await self._answer(scope, send, *entry):
            return
        noted: list[Noted] = []
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
        # Remembered under the scope of the key that FastAPI authenticated (now cached).
        key = self._live_key(scope)
        if status == 200 and len(noted) == 1 and route is not None and key is not None:
            where = (scope["path"], scope["query_string"], self._scope_of(key))
            self._known[where] = (*noted[0], route)
            self._known.move_to_end(where)
            while len(self._known) > self.max_entries:
                self._known.popitem(last=False)

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        version: str,
        key: str,
        guard: Guard | None,
        guarded: object,
        route: Any,
    ) -> bool:
        if version != await self.lake.version():
            return False
        if guard is not None and guard() != guarded:
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
