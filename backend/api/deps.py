"""Dependency aliases, so route signatures stay one line each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from backend.api.auth import CSRF_HEADER, SESSION_COOKIE, Authenticator
from backend.api.cache import Cache
from backend.api.lake import GoldLake
from backend.api.principal import Principal, Role
from backend.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An API key from `nova apikey create`.")
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The session cookie set by `POST /api/v1/auth/login`; writes also need "
    f"the `{CSRF_HEADER}` header.",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "missing or invalid API key or session: send `Authorization: Bearer <key>` or sign in",
    headers={"WWW-Authenticate": "Bearer"},
)
CSRF_REFUSED = HTTPException(
    status.HTTP_403_FORBIDDEN, f"a write signed in by cookie needs the {CSRF_HEADER} header"
)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_lake(request: Request) -> GoldLake:
    lake: GoldLake = request.app.state.lake
    return lake


async def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


async def get_auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


async def get_appdb(request: Request) -> Engine:
    engine: Engine = request.app.state.appdb
    return engine


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The caller: a bearer key, else the session cookie.

    A request with an Authorization header is judged by it alone (a bad key is 401 even
    with a cookie). Cookie-authenticated writes must echo the session's CSRF token: a page
    of another site can make the browser send the cookie, but cannot read the token.
    """
    auth: Authenticator = request.app.state.auth
    if credentials is not None or request.headers.get("authorization"):
        principal = await auth.bearer(credentials.credentials if credentials else None)
        if principal is None:
            raise UNAUTHORIZED
        return principal
    signed_in = await auth.sessions.check(cookie)
    if signed_in is None:
        raise UNAUTHORIZED
    if request.method not in SAFE_METHODS:
        session_id = signed_in.principal.session_id or ""
        if not auth.signer.csrf_ok(session_id, request.headers.get(CSRF_HEADER)):
            raise CSRF_REFUSED
    return signed_in.principal


def _needs(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.has_role(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this route needs the {role} role")
        return principal

    return check


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LakeDep = Annotated[GoldLake, Depends(get_lake)]
CacheDep = Annotated[Cache, Depends(get_cache)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
AppDbDep = Annotated[Engine, Depends(get_appdb)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PlannerPrincipal = Annotated[Principal, Depends(_needs("planner"))]
AdminPrincipal = Annotated[Principal, Depends(_needs("admin"))]
