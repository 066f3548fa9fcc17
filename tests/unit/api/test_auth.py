"""The key verifier's caches, signed session cookies and CSRF tokens."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from backend.api.auth import Authenticator, KeyVerifier, SessionSigner
from backend.appdb import upgrade
from backend.appdb.base import utcnow
from backend.appdb.keys import create_key, revoke_key
from backend.appdb.sessions import create_session
from backend.appdb.users import create_user, set_disabled
from backend.settings import Settings


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return upgrade(settings)


def count_queries(engine: Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


@pytest.mark.reliability
def test_junk_tokens_cannot_evict_a_valid_key(engine: Engine) -> None:
    record, token = create_key(engine, role="viewer")
    verifier = KeyVerifier(engine, ttl=60, max_keys=100, max_misses=100)
    assert verifier.verify(token) is not None
    queries = count_queries(engine)
    # Far more junk than either cache holds: malformed tokens, and well-formed wrong ones.
    for n in range(1_000):
        junk = f"junk-{n}" if n % 2 else f"nova_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
        known, key = verifier.cached(junk)
        if not known:
            assert verifier.verify(junk) is None
    assert len(queries) == 500  # the malformed half never reached the database
    known, key = verifier.cached(token)
    assert known and key is not None and key.key_id == record.key_id  # still remembered
    assert verifier.live_entries == 1


def test_a_revoked_key_stops_working_within_the_ttl(engine: Engine) -> None:
    record, token = create_key(engine, role="viewer")
    verifier = KeyVerifier(engine, ttl=0.05)
    assert verifier.verify(token) is not None
    revoke_key(engine, record.key_id)
    time.sleep(0.06)
    assert verifier.cached(token) == (False, None)  # expired: the database decides again
    assert verifier.verify(token) is None
    assert verifier.cached(token) == (True, None)


def test_requests_that_miss_together_share_one_lookup(engine: Engine) -> None:
    """An expired entry of a busy key: the requests in flight wait for one query, not one
    each (64 queued lookups were the p99 of a 64-connection load)."""
    record, token = create_key(engine, role="viewer")
    verifier = KeyVerifier(engine, ttl=60)
    queries = count_queries(engine)

    async def burst() -> list[object]:
        return list(await asyncio.gather(*(verifier.check(token) for _ in range(64))))

    keys = asyncio.run(burst())
    assert len(queries) == 1
    assert all(k is not None and k.key_id == record.key_id for k in keys)  # type: ignore[attr-defined]
    revoke_key(engine, record.key_id)
    verifier.forget(record.key_id)
    assert asyncio.run(burst()) == [None] * 64  # a new miss asks the database again
    assert len(queries) == 3  # the revocation's update, then one lookup


def test_forget_drops_a_key_at_once(engine: Engine) -> None:
    record, token = create_key(engine, role="viewer")
    verifier = KeyVerifier(engine, ttl=60)
    verifier.verify(token)
    verifier.forget(record.key_id)
    assert verifier.cached(token) == (False, None)


def test_session_cookies_are_signed_and_csrf_is_bound_to_the_session() -> None:
    signer = SessionSigner(b"k" * 48)
    cookie, token_hash = signer.new_token()
    assert signer.token_hash(cookie) == token_hash
    token, _, mac = cookie.partition(".")
    assert signer.token_hash(f"{token}x.{mac}") is None  # tampered token
    assert signer.token_hash(token) is None  # unsigned
    assert SessionSigner(b"o" * 48).token_hash(cookie) is None  # another server's secret
    csrf = signer.csrf_token("session-1")
    assert signer.csrf_ok("session-1", csrf)
    assert not signer.csrf_ok("session-2", csrf)
    assert not signer.csrf_ok("session-1", None)


def test_still_valid_sees_a_disabled_user_and_a_revoked_key(engine: Engine) -> None:
    asyncio.run(_still_valid_scenario(engine))


async def _still_valid_scenario(engine: Engine) -> None:
    auth = Authenticator(engine, b"k" * 48, ttl=60, idle=timedelta(minutes=30))
    user = create_user(engine, email="ana@x.com", password="p" * 12, role="viewer")
    cookie, token_hash = auth.signer.new_token()
    create_session(engine, user_id=user.id, token_hash=token_hash, now=utcnow(),
                   lifetime=timedelta(hours=1))  # fmt: skip
    signed_in = await auth.sessions.check(cookie)
    assert signed_in is not None and signed_in.principal.email == "ana@x.com"
    record, token = create_key(engine, role="admin")
    key_principal = await auth.bearer(token)
    assert key_principal is not None and key_principal.role == "admin"
    assert await auth.still_valid(signed_in.principal)
    assert await auth.still_valid(key_principal)
    set_disabled(engine, "ana@x.com", True)
    revoke_key(engine, record.key_id)
    assert not await auth.still_valid(signed_in.principal)
    assert not await auth.still_valid(key_principal)
    # Found dead by the re-check: dropped from the caches at once, not after the ttl.
    assert await auth.sessions.check(cookie) is None
    assert await auth.bearer(token) is None
