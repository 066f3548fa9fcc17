"""Sign-in for people: login (a session cookie), logout, and who am I."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from backend.api.auth import CSRF_COOKIE, SESSION_COOKIE, Authenticator
from backend.api.deps import AppDbDep, AuthDep, CurrentPrincipal, SettingsDep
from backend.api.principal import Role
from backend.api.schemas import Message
from backend.appdb import login_attempts, sessions, users
from backend.appdb.base import utcnow
from backend.appdb.passwords import needs_rehash, verify_password
from backend.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])
WRONG = "wrong email or password"


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["planner@novacorrente.com.br"])
    password: str = Field(min_length=1, max_length=1024, description="The account's password.")


class Me(BaseModel):
    kind: Literal["key", "session"] = Field(description="How the caller authenticated.")
    email: str | None = Field(description="The person signed in (null for an API key).")
    role: Role
    depots: list[str] | None = Field(description="The depot scope; null: every depot.")
    csrf_token: str | None = Field(
        description="Send it as `X-CSRF-Token` on every write made with the session cookie."
    )
    expires_at: datetime | None = Field(description="When the session ends if left idle.")


def _client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers/--forwarded-allow-ips set the real client.
    return (request.client.host if request.client else "unknown")[:64]


def _set_cookies(response: Response, settings: Settings, cookie: str, csrf: str) -> None:
    max_age = int(settings.session_absolute_hours * 3600)
    common = {"max_age": max_age, "path": "/", "secure": settings.cookies_secure,
              "samesite": "lax"}  # fmt: skip
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, **common)  # type: ignore[arg-type]
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)  # type: ignore[arg-type]


@router.post(
    "/login",
    response_model=Me,
    responses={
        400: {"model": Message, "description": "The body is not JSON."},
        401: {"model": Message, "description": "Wrong email or password (the same for both)."},
        429: {"model": Message, "description": "Too many failed sign-ins; see Retry-After."},
    },
)
async def login(
    request: Request,
    response: Response,
    body: Annotated[LoginRequest, Body()],
    settings: SettingsDep,
    engine: AppDbDep,
    auth: AuthDep,
) -> Me:
    """Sign in with email and password: sets the httpOnly session cookie and the CSRF
    cookie. Failed attempts are limited per account and per client address."""
    email = users.normalize_email(body.email)
    address = _client_address(request)
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    wait = await asyncio.to_thread(
        login_attempts.retry_after, engine, email=email, client_address=address, now=now,
        window=window, per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
    )  # fmt: skip
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-ins: try again later",
            headers={"Retry-After": str(wait)},
        )
    found = await asyncio.to_thread(users.get_user, engine, email)
    user, stored_hash = found if found else (None, None)
    # Always one argon2 verification (a dummy hash for unknown accounts): same time, same
    # answer for an unknown email, a wrong password and a disabled account.
    ok = await asyncio.to_thread(verify_password, stored_hash, body.password)
    if not ok or user is None or user.disabled_at is not None:
        await asyncio.to_thread(
            login_attempts.record_failure, engine, email=email, client_address=address, now=now
        )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG)
    assert stored_hash is not None
    await asyncio.to_thread(
        login_attempts.forget_failures, engine, email=email, before=now - window
    )
    if needs_rehash(stored_hash):
        await asyncio.to_thread(users.rehash_password, engine, user.id, body.password)
    cookie, token_hash = auth.signer.new_token()
    session_id = await asyncio.to_thread(
        sessions.create_session, engine, user_id=user.id, token_hash=token_hash, now=now,
        lifetime=timedelta(hours=settings.session_absolute_hours), client_address=address,
    )  # fmt: skip
    csrf = auth.signer.csrf_token(session_id)
    _set_cookies(response, settings, cookie, csrf)
    idle_end = now + timedelta(minutes=settings.session_idle_minutes)
    absolute_end = now + timedelta(hours=settings.session_absolute_hours)
    return Me(kind="session", email=user.email, role=user.role,
              depots=list(user.depots) if user.depots else None, csrf_token=csrf,
              expires_at=min(idle_end, absolute_end))  # fmt: skip


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        401: {"model": Message, "description": "Not signed in."},
        403: {"model": Message, "description": "Signed in by cookie without X-CSRF-Token."},
    },
)
async def logout(
    response: Response, principal: CurrentPrincipal, engine: AppDbDep, auth: AuthDep,
    settings: SettingsDep,
) -> None:  # fmt: skip
    """End the session (server-side: the cookie is dead even if a copy is kept)."""
    if principal.session_id is not None:
        await asyncio.to_thread(sessions.revoke_session, engine, principal.session_id, now=utcnow())
        auth.sessions.forget(principal.session_id)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=settings.cookies_secure, samesite="lax")


async def _me(request: Request, principal: CurrentPrincipal, auth: Authenticator) -> Me:
    if principal.kind == "key":
        return Me(kind="key", email=None, role=principal.role, depots=None, csrf_token=None,
                  expires_at=None)  # fmt: skip
    signed_in = await auth.sessions.check(request.cookies.get(SESSION_COOKIE))
    return Me(kind="session", email=principal.email, role=principal.role,
              depots=list(principal.depots) if principal.depots else None,
              csrf_token=auth.signer.csrf_token(principal.session_id or ""),
              expires_at=signed_in.expires_at if signed_in else None)  # fmt: skip


@router.get("/me", response_model=Me, responses={401: {"model": Message}})
async def me(request: Request, principal: CurrentPrincipal, auth: AuthDep) -> Me:
    """Who is signed in: email, role, depot scope, the CSRF token and the session's expiry."""
    return await _me(request, principal, auth)
