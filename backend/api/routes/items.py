"""Items (dim_items)."""

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
    found,
    one,
    paged,
)
from backend.api.schemas import ItemPublic, ItemsPublic
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/items", tags=["items"], responses=ERRORS, dependencies=STRICT)
SELECT = f"select {columns(ItemPublic)} from delta_scan($t_dim_items)"


@router.get("", response_model=ItemsPublic)
async def list_items(
    lake: LakeDep,
    principal: CurrentPrincipal,
    category: Text = None,
    family: Text = None,
    supplier_id: Text = None,
    q: Text = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Spare parts; `q` matches part of the item name (case-insensitive)."""
    params = {"category": category, "family": family, "supplier_id": supplier_id, "q": q}

    def build(reader: GoldReader) -> ItemsPublic:
        where = (
            Where()
            .add("category = $category", category=category)
            .add("family = $family", family=family)
            .add("supplier_id = $supplier_id", supplier_id=supplier_id)
            .add("contains(lower(item_name), lower($q))", q=q)
        )
        return paged(
            reader, ItemsPublic, select=SELECT, where=where, tables=["dim_items"],
            order_by="item_id", limit=limit, offset=offset,
        )  # fmt: skip

    # Items are global (no depot), yet the scope stays in the key, as on every route.
    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("items", key, build)


@router.get("/{item_id}", response_model=ItemPublic, responses=NOT_FOUND)
async def get_item(
    lake: LakeDep, _principal: CurrentPrincipal, item_id: Annotated[str, Path(max_length=64)]
):
    row = await lake.run(
        lambda r: one(r, ItemPublic, table="dim_items", key="item_id", value=item_id)
    )
    return found(row, "item", item_id)
