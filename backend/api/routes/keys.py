"""API keys (admin only). Keys are created with `nova apikey create`."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter

from backend.api.deps import AdminPrincipal, AppDbDep
from backend.api.routes.common import ERRORS, STRICT
from backend.api.schemas import ApiKeyPublic, ApiKeysPublic, Message
from backend.appdb import keys

router = APIRouter(
    prefix="/keys",
    tags=["admin"],
    responses={**ERRORS, 403: {"model": Message, "description": "Needs the admin role."}},
    dependencies=STRICT,
)


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


@router.get("", response_model=ApiKeysPublic)
async def list_keys(engine: AppDbDep, _admin: AdminPrincipal) -> ApiKeysPublic:
    """Every key's id, role and name (never the key or its hash)."""
    found = await asyncio.to_thread(keys.list_keys, engine)
    data = [
        ApiKeyPublic(
            key_id=k.key_id,
            role=k.role,
            name=k.name,
            created_at=_stamp(k.created_at) or "",
            revoked_at=_stamp(k.revoked_at),
        )
        for k in found
    ]
    return ApiKeysPublic(data=data, count=len(data))
