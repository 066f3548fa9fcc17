"""Depots (dim_depots)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backend.api.deps import CurrentKey, LakeDep
from backend.api.routes.common import (
    ERRORS,
    NOT_FOUND,
    STRICT,
    Limit,
    Offset,
    Text,
    columns,
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
    _key: CurrentKey,
    state: Text = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Depots, optionally of one state (UF)."""

    def build(reader: GoldReader) -> DepotsPublic:
        where = Where().add("state = $state", state=state)
        return paged(
            reader, DepotsPublic, select=SELECT, where=where, tables=["dim_depots"],
            order_by="depot_id", limit=limit, offset=offset,
        )  # fmt: skip

    return await lake.cached("depots", {"state": state, "limit": limit, "offset": offset}, build)


@router.get("/{depot_id}", response_model=DepotPublic, responses=NOT_FOUND)
async def get_depot(lake: LakeDep, _key: CurrentKey, depot_id: Annotated[str, Path(max_length=64)]):
    row = await lake.run(
        lambda r: one(r, DepotPublic, table="dim_depots", key="depot_id", value=depot_id)
    )
    return found(row, "depot", depot_id)
