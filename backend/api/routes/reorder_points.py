"""Reorder points and suggested orders (fct_reorder_points)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    IsoDate,
    Limit,
    Offset,
    Text,
    columns,
    paged,
    pair_filters,
)
from backend.api.schemas import DemandClass, ReorderPointPublic, ReorderPointsPublic
from backend.lake.reader import GoldReader

router = APIRouter(
    prefix="/reorder-points", tags=["reorder points"], responses=ERRORS, dependencies=STRICT
)
SELECT = f"select {columns(ReorderPointPublic)} from delta_scan($t_fct_reorder_points)"


@router.get("", response_model=ReorderPointsPublic)
async def list_reorder_points(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    demand_class: DemandClass | None = None,
    as_of_date: Annotated[IsoDate | None, Query(description="Default: the latest.")] = None,
    needs_order: Annotated[
        bool | None, Query(description="Only positions with a suggested order > 0.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Safety stock, reorder point and suggested order per item and depot."""
    params: dict[str, Any] = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "demand_class": demand_class,
        "as_of_date": as_of_date,
        "needs_order": needs_order,
    }

    def build(reader: GoldReader) -> ReorderPointsPublic:
        where, extra = pair_filters(principal, item_id, depot_id, category)
        where.add("demand_class = $demand_class", demand_class=demand_class)
        tables = ["fct_reorder_points", *extra]
        if needs_order is not None:
            where.add("(suggested_order_qty > 0) = $needs_order", needs_order=needs_order)
        if as_of_date is None:
            where.add(
                "as_of_date = (select max(as_of_date) from delta_scan($t_fct_reorder_points))"
            )
        else:
            where.add("as_of_date = $as_of_date", as_of_date=as_of_date)
        return paged(
            reader, ReorderPointsPublic, select=SELECT, where=where, tables=tables,
            order_by="item_id, depot_id", limit=limit, offset=offset,
        )  # fmt: skip

    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("reorder-points", key, build)
