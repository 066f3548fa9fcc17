"""Who is calling: bearer API keys (services) and signed session cookies (people).

Both answers are remembered for ``Settings.auth_cache_seconds`` so a request costs no
database round trip, and revocation takes effect within that time. The caches cannot be
flooded out: only keys that verified enter the key cache (junk tokens go to a separate,
bounded cache of misses, or cost nothing when malformed), and only cookies carrying our
HMAC signature are ever looked up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine

from backend.api.principal import Principal
from backend.appdb.base import utcnow
from backend.appdb.keys import KeyInfo, hash_key, key_id_of, key_is_live, lookup_key
from backend.appdb.sessions import LiveSession, resolve_session, session_is_live

SESSION_COOKIE = "nova_session"
CSRF_COOKIE = "nova_csrf"
CSRF_HEADER = "X-CSRF-Token"

V = TypeVar("V")


class ExpiringLru(Generic[V]):
    """A bounded map whose entries expire; when full, the least recently used goes."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, V | None]:
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: str, value: V, ttl: float) -> None:
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def drop_where(self, predicate: Callable[[V], bool]) -> None:
        doomed = [k for k, (_, v) in self._entries.items() if predicate(v)]
        for key in doomed:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


def key_principal(key: KeyInfo) -> Principal:
    return Principal(kind="key", subject=key.key_id, role=key.role)


class KeyVerifier:
    """Checks bearer tokens against the app database, remembering answers ``ttl`` seconds.

    Verified keys and misses live in separate caches, so no number of junk tokens can push
    a valid key out (the old single dict was cleared when full, sending every live key back
    to the database at once).
    """

    def __init__(
        self, engine: Engine, ttl: float = 5.0, max_keys: int = 10_000, max_misses: int = 10_000
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self._live: ExpiringLru[KeyInfo] = ExpiringLru(max_keys)
        self._misses: ExpiringLru[None] = ExpiringLru(max_misses)
        # digest -> the lookup in flight: when a busy key's entry expires, every request
        # in flight with it missed at once and each ran its own query in a thread (64
        # lookups queued behind each other, and behind the GIL, every ``ttl`` seconds: the
        # p99 of a 64-connection load); they now share one.
        self._inflight: dict[str, asyncio.Future[KeyInfo | None]] = {}

    def cached(self, token: str) -> tuple[bool, KeyInfo | None]:
        """(known, key): known is False when only the database can tell."""
        if key_id_of(token) is None:
            return True, None  # malformed: never a key, no lookup, nothing remembered
        digest = hash_key(token)
        known, key = self._live.get(digest)
        if known:
            return True, key
        missed, _ = self._misses.get(digest)
        return missed, None

    def verify(self, token: str) -> KeyInfo | None:
        """Blocking (a query): run it in a worker thread."""
        key = lookup_key(self.engine, token)
        if key is None:
            if key_id_of(token) is not None:
                self._misses.put(hash_key(token), None, self.ttl)
        else:
            self._live.put(hash_key(token), key, self.ttl)
        return key

    async def check(self, token: str | None) -> KeyInfo | None:
        if not token:
            return None
        known, key = self.cached(token)
        if known:
            return key
        digest = hash_key(token)
        pending = self._inflight.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self.verify, token))
            self._inflight[digest] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(digest, None))
        # shielded: a caller that goes away must not cancel the others' lookup
        return await asyncio.shield(pending)

    def forget(self, key_id: str) -> None:
        self._live.drop_where(lambda key: key.key_id == key_id)

    @property
    def live_entries(self) -> int:
        return len(self._live)


class SessionSigner:
    """Session tokens in cookies signed with the server secret, and CSRF tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: bytes, value: str) -> str:
        digest = hmac.new(self._secret, purpose + b":" + value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def new_token(self) -> tuple[str, str]:
        """A fresh session: (cookie value, hash stored server-side)."""
        token = secrets.token_urlsafe(32)
        return f"{token}.{self._mac(b'session', token)}", hashlib.sha256(token.encode()).hexdigest()

    def token_hash(self, cookie: str) -> str | None:
        """The stored hash of a cookie we signed, or None (forged, truncated, junk)."""
        token, _, mac = cookie.partition(".")
        if (
            not token
            or len(cookie) > 200
            or not hmac.compare_digest(mac, self._mac(b"session", token))
        ):
            return None
        return hashlib.sha256(token.encode()).hexdigest()

    def csrf_token(self, session_id: str) -> str:
        """Bound to the session: a page of another origin can neither read nor guess it."""
        return self._mac(b"csrf", session_id)

    def csrf_ok(self, session_id: str, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token(session_id))


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    expires_at: datetime
    csrf_token: str


class SessionVerifier:
    def __init__(
        self, engine: Engine, signer: SessionSigner, *, ttl: float, idle: timedelta,
        max_entries: int = 10_000,
    ) -> None:  # fmt: skip
        self.engine = engine
        self.signer = signer
        self.ttl = ttl
        self.idle = idle
        self._live: ExpiringLru[SignedIn] = ExpiringLru(max_entries)

    def _resolve(self, token_hash: str) -> SignedIn | None:
        live: LiveSession | None = resolve_session(
            self.engine, token_hash, now=utcnow(), idle=self.idle
        )
        if live is None:
            return None
        user = live.user
        principal = Principal(kind="session", subject=user.id, role=user.role,
                              depots=user.depots, email=user.email, session_id=live.session_id)  # fmt: skip
        return SignedIn(principal, live.expires_at, self.signer.csrf_token(live.session_id))

    async def check(self, cookie: str | None) -> SignedIn | None:
        token_hash = self.signer.token_hash(cookie) if cookie else None
        if token_hash is None:
            return None
        known, signed_in = self._live.get(token_hash)
        if known and signed_in is not None and signed_in.expires_at > utcnow():
            return signed_in
        signed_in = await asyncio.to_thread(self._resolve, token_hash)
        if signed_in is None:
            self._live.pop(token_hash)
        else:
            ttl = min(self.ttl, (signed_in.expires_at - utcnow()).total_seconds())
            self._live.put(token_hash, signed_in, max(ttl, 0.0))
        return signed_in

    def forget(self, session_id: str) -> None:
        self._live.drop_where(lambda s: s.principal.session_id == session_id)


class Authenticator:
    """What the API keeps in ``app.state.auth``: both verifiers and the re-check."""

    def __init__(self, engine: Engine, secret: bytes, *, ttl: float, idle: timedelta) -> None:
        self.engine = engine
        self.signer = SessionSigner(secret)
        self.keys = KeyVerifier(engine, ttl=ttl)
        self.sessions = SessionVerifier(engine, self.signer, ttl=ttl, idle=idle)

    async def bearer(self, token: str | None) -> Principal | None:
        key = await self.keys.check(token)
        return key_principal(key) if key else None

    def _still_valid(self, principal: Principal) -> bool:
        if principal.kind == "key":
            return key_is_live(self.engine, principal.subject)
        assert principal.session_id is not None
        return session_is_live(
            self.engine, principal.session_id, now=utcnow(), idle=self.sessions.idle
        )

    async def still_valid(self, principal: Principal) -> bool:
        """A fresh answer from the database (the WebSocket's periodic re-check); a
        principal found dead is also dropped from this process's caches at once."""
        valid = await asyncio.to_thread(self._still_valid, principal)
        if not valid:
            if principal.kind == "key":
                self.keys.forget(principal.subject)
            elif principal.session_id:
                self.sessions.forget(principal.session_id)
        return valid
