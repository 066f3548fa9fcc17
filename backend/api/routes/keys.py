"""API keys (admin only). Keys are created with `nova apikey create`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from backend.api import auth
from backend.api.deps import AdminKey, SettingsDep
from backend.api.routes.common import ERRORS, STRICT
from backend.api.schemas import ApiKeyPublic, ApiKeysPublic, Message

router = APIRouter(
    prefix="/keys",
    tags=["admin"],
    responses={**ERRORS, 403: {"model": Message, "description": "Needs an admin key."}},
    dependencies=STRICT,
)


@router.get("", response_model=ApiKeysPublic)
async def list_keys(settings: SettingsDep, _admin: AdminKey) -> ApiKeysPublic:
    """Every key's id, role and name (never the key or its hash)."""
    keys = await asyncio.to_thread(auth.list_keys, settings.api_keys_path)
    data = [ApiKeyPublic(**vars(k)) for k in keys]
    return ApiKeysPublic(data=data, count=len(data))
