"""Depots (dim_depots)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.routes.common import (
    ERRORS,
    NOT_FOUND,
    STRICT,
    Limit,
    Offset,
    Text,
    columns,
    depot_scope,
    found,
    one,
    paged,
)
from backend.api.schemas import DepotPublic, DepotsPublic
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/depots", tags=["depots"], responses=ERRORS, dependencies=STRICT)
SELECT = f"select {columns(DepotPublic)} from delta_scan($t_dim_depots)"


@router.get("", response_model=DepotsPublic)
async def list_depots(
    lake: LakeDep,
    principal: CurrentPrincipal,
    state: Text = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Depots, optionally of one state (UF)."""

    def build(reader: GoldReader) -> DepotsPublic:
        where = depot_scope(Where().add("state = $state", state=state), principal, "depot_id")
        return paged(
            reader, DepotsPublic, select=SELECT, where=where, tables=["dim_depots"],
            order_by="depot_id", limit=limit, offset=offset,
        )  # fmt: skip

    key = {"state": state, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("depots", key, build)


@router.get("/{depot_id}", response_model=DepotPublic, responses=NOT_FOUND)
async def get_depot(
    lake: LakeDep, principal: CurrentPrincipal, depot_id: Annotated[str, Path(max_length=64)]
):
    if not principal.sees_depot(depot_id):
        return found(None, "depot", depot_id)
    row = await lake.run(
        lambda r: one(r, DepotPublic, table="dim_depots", key="depot_id", value=depot_id)
    )
    return found(row, "depot", depot_id)
