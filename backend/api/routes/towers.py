"""Towers (dim_towers)."""

from __future__ import annotations

from typing import Annotated, Literal

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
from backend.api.schemas import TowerPublic, TowersPublic
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/towers", tags=["towers"], responses=ERRORS, dependencies=STRICT)
SELECT = f"select {columns(TowerPublic)} from delta_scan($t_dim_towers)"


@router.get("", response_model=TowersPublic)
async def list_towers(
    lake: LakeDep,
    principal: CurrentPrincipal,
    depot_id: Text = None,
    municipality: Text = None,
    sla_tier: Literal["platinum", "gold", "silver"] | None = None,
    technology: Literal["4G", "5G"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Towers, optionally of one depot, municipality, SLA tier or technology."""
    params = {
        "depot_id": depot_id,
        "municipality": municipality,
        "sla_tier": sla_tier,
        "technology": technology,
    }

    def build(reader: GoldReader) -> TowersPublic:
        where = (
            Where()
            .add("depot_id = $depot_id", depot_id=depot_id)
            .add("municipality = $municipality", municipality=municipality)
            .add("sla_tier = $sla_tier", sla_tier=sla_tier)
            .add("technology = $technology", technology=technology)
        )
        depot_scope(where, principal, "depot_id")
        return paged(
            reader, TowersPublic, select=SELECT, where=where, tables=["dim_towers"],
            order_by="tower_id", limit=limit, offset=offset,
        )  # fmt: skip

    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("towers", key, build)


@router.get("/{tower_id}", response_model=TowerPublic, responses=NOT_FOUND)
async def get_tower(
    lake: LakeDep, principal: CurrentPrincipal, tower_id: Annotated[str, Path(max_length=64)]
):
    row = await lake.run(
        lambda r: one(r, TowerPublic, table="dim_towers", key="tower_id", value=tower_id)
    )
    # A tower of another depot is "not found" for a scoped caller, not "forbidden".
    return found(row if row and principal.sees_depot(row.depot_id) else None, "tower", tower_id)
