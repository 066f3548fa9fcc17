"""People's accounts (admin only): list, disable, enable. Accounts are created with
`nova user create` (the password never travels through the API)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from backend.api.deps import AdminPrincipal, AppDbDep
from backend.api.principal import Role
from backend.api.routes.common import ERRORS, NOT_FOUND, STRICT
from backend.api.schemas import Message
from backend.appdb import users

router = APIRouter(
    prefix="/users",
    tags=["admin"],
    responses={**ERRORS, 403: {"model": Message, "description": "Needs the admin role."}},
    dependencies=STRICT,
)
Email = Annotated[str, Path(min_length=3, max_length=254, description="The account's email.")]


class UserPublic(BaseModel):
    email: str = Field(examples=["planner@novacorrente.com.br"])
    role: Role
    depots: list[str] | None = Field(description="The depot scope; null: every depot.")
    created_at: datetime
    disabled_at: datetime | None = None


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


def _public(user: users.UserInfo) -> UserPublic:
    return UserPublic(email=user.email, role=user.role,
                      depots=list(user.depots) if user.depots else None,
                      created_at=user.created_at, disabled_at=user.disabled_at)  # fmt: skip


@router.get("", response_model=UsersPublic)
async def list_users(engine: AppDbDep, _admin: AdminPrincipal) -> UsersPublic:
    """Every account's email, role, depot scope and state (never a password hash)."""
    data = [_public(u) for u in await asyncio.to_thread(users.list_users, engine)]
    return UsersPublic(data=data, count=len(data))


async def _set_disabled(engine: AppDbDep, email: str, disabled: bool) -> None:
    if not await asyncio.to_thread(users.set_disabled, engine, email, disabled):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {email!r}")


@router.post("/{email}/disable", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def disable_user(engine: AppDbDep, _admin: AdminPrincipal, email: Email) -> None:
    """Disable an account: its sessions are revoked and its sockets close within seconds."""
    await _set_disabled(engine, email, True)


@router.post("/{email}/enable", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def enable_user(engine: AppDbDep, _admin: AdminPrincipal, email: Email) -> None:
    """Enable an account again (its old sessions stay revoked: the person signs in)."""
    await _set_disabled(engine, email, False)
