"""Stock positions (fct_inventory_snapshot)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    IsoDate,
    Limit,
    Offset,
    Text,
    depot_scope,
    paged,
)
from backend.api.schemas import InventoryPublic
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/inventory", tags=["inventory"], responses=ERRORS, dependencies=STRICT)

SELECT = """
select s.item_id, s.depot_id, s.snapshot_date, i.category, s.on_hand, s.on_order,
    s.unit_cost, s.stock_value
from delta_scan($t_fct_inventory_snapshot) as s
left join delta_scan($t_dim_items) as i using (item_id)
"""


@router.get("", response_model=InventoryPublic)
async def list_inventory(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    snapshot_date: Annotated[
        IsoDate | None, Query(description="Snapshot date; default: the latest.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Stock on hand and on order per item and depot on a snapshot date."""
    params = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "snapshot_date": snapshot_date,
    }

    def build(reader: GoldReader) -> InventoryPublic:
        where = (
            Where()
            .add("s.item_id = $item_id", item_id=item_id)
            .add("s.depot_id = $depot_id", depot_id=depot_id)
            .add("i.category = $category", category=category)
        )
        depot_scope(where, principal, "s.depot_id")
        if snapshot_date is None:
            where.add("s.snapshot_date = (select max(snapshot_date) from "
                      "delta_scan($t_fct_inventory_snapshot))")  # fmt: skip
        else:
            where.add("s.snapshot_date = $snapshot_date", snapshot_date=snapshot_date)
        return paged(
            reader, InventoryPublic, select=SELECT, where=where,
            tables=["fct_inventory_snapshot", "dim_items"],
            order_by="item_id, depot_id", limit=limit, offset=offset,
        )  # fmt: skip

    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("inventory", key, build)
