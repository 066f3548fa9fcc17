"""Query parameters and helpers shared by the resource routers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator

from backend.api.principal import Principal
from backend.api.schemas import Message, PageOf
from backend.lake.reader import GoldReader, Where
from backend.lake.sql import plain_name, quote_name

# Ids and names are short; anything longer is refused (422) before it reaches a query.
Text = Annotated[str | None, Query(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=100_000,
        description="Rows to skip (at most 100,000: narrow the filters to reach further rows).",
    ),
]


def _iso_date(value: object) -> object:
    """Dates as YYYY-MM-DD only: pydantic alone would read "0" as 1970-01-01."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
StartDate = Annotated[IsoDate | None, Query(description="First date, inclusive (YYYY-MM-DD).")]
EndDate = Annotated[IsoDate | None, Query(description="Last date, inclusive (YYYY-MM-DD).")]


async def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not declare is a 422, not silently ignored."""
    route: Any = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if route is not None else set()
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [{"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown query parameter",
              "input": request.query_params[name]} for name in unknown]
        )  # fmt: skip


STRICT = [Depends(reject_unknown_query)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing or invalid API key."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "No such row."}
}

P = TypeVar("P", bound=PageOf[Any])


def columns(model: type[BaseModel], alias: str = "", skip: Sequence[str] = ()) -> str:
    """The model's fields as a select list (names from our own schema, checked)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quote_name(f)}" for f in model.model_fields if f not in skip)


def paged(
    reader: GoldReader,
    page_model: type[P],
    *,
    select: str,
    where: Where,
    tables: Sequence[str],
    order_by: str,
    limit: int,
    offset: int,
) -> P:
    page = reader.page(
        f"{select} where {where.sql}",
        tables=tables,
        params=where.params,
        order_by=order_by,
        limit=limit,
        offset=offset,
    )
    return page_model.model_validate(
        {"data": page.rows, "count": page.count, "limit": limit, "offset": offset}
    )


def depot_scope(where: Where, principal: Principal, column: str = "depot_id") -> Where:
    """Restrict ``where`` to the principal's depots (nothing to add for an unscoped caller).

    ``column`` is a fixed column expression from our own code, never from the request.
    """
    if principal.depots is not None:
        where.add(
            f"{column} in (select unnest($scope_depots))", scope_depots=list(principal.depots)
        )
    return where


def category_filter(where: Where, category: str | None, column: str = "item_id") -> list[str]:
    """Restrict to items of a category (dim_items); the extra table to scan, if any."""
    if category is None:
        return []
    where.add(
        f"{column} in (select item_id from delta_scan($t_dim_items) where category = $category)",
        category=category,
    )
    return ["dim_items"]


def pair_filters(
    principal: Principal, item_id: str | None, depot_id: str | None, category: str | None
) -> tuple[Where, list[str]]:
    """Item, depot and category filters of an item x depot table, within the caller's
    depots; and the extra tables they read (dim_items when a category is asked)."""
    where = (
        Where()
        .add("item_id = $item_id", item_id=item_id)
        .add("depot_id = $depot_id", depot_id=depot_id)
    )
    extra = category_filter(where, category)
    depot_scope(where, principal, "depot_id")
    return where, extra


M = TypeVar("M", bound=BaseModel)


def one(reader: GoldReader, model: type[M], *, table: str, key: str, value: str) -> M | None:
    """The row of ``table`` whose ``key`` column equals ``value``, or None."""
    rows = reader.rows(
        f"select {columns(model)} from delta_scan($t_{plain_name(table)}) "
        f"where {quote_name(key)} = $value limit 1",
        tables=[table],
        params={"value": value},
    )
    return model.model_validate(rows[0]) if rows else None


def found(row: M | None, what: str, value: str) -> M:
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} {value!r}")
    return row
