"""Dependency aliases, so route signatures stay one line each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.api.auth import ApiKey, KeyVerifier
from backend.api.cache import Cache
from backend.api.lake import GoldLake
from backend.api.principal import Principal, Role
from backend.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An API key from `nova apikey create`.")

UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "missing or invalid API key: send `Authorization: Bearer <key>`",
    headers={"WWW-Authenticate": "Bearer"},
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


async def check_token(verifier: KeyVerifier, token: str | None) -> ApiKey | None:
    """The key of ``token``; the key file is read off the event loop, then remembered."""
    if not token:
        return None
    known, key = verifier.cached(token)
    if not known:
        key = await asyncio.to_thread(verifier.verify, token)
    return key


async def get_current_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    key = await check_token(
        request.app.state.verifier, credentials.credentials if credentials else None
    )
    if key is None:
        raise UNAUTHORIZED
    return key


async def get_admin_key(key: Annotated[ApiKey, Depends(get_current_key)]) -> ApiKey:
    if key.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs an admin key")
    return key


async def get_principal(key: Annotated[ApiKey, Depends(get_current_key)]) -> Principal:
    """The caller. For now API keys only (every depot); sessions join here."""
    return Principal(kind="key", subject=key.key_id, role=key.role)


def _needs(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.has_role(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this route needs the {role} role")
        return principal

    return check


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LakeDep = Annotated[GoldLake, Depends(get_lake)]
CacheDep = Annotated[Cache, Depends(get_cache)]
CurrentKey = Annotated[ApiKey, Depends(get_current_key)]
AdminKey = Annotated[ApiKey, Depends(get_admin_key)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PlannerPrincipal = Annotated[Principal, Depends(_needs("planner"))]
AdminPrincipal = Annotated[Principal, Depends(_needs("admin"))]
