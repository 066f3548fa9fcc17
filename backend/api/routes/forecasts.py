"""Forecasts (fct_forecasts): points, a summary with accuracy, accuracy by group."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.lake import warm_on_publish
from backend.api.memtables import held
from backend.api.principal import Principal
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    EndDate,
    IsoDate,
    Limit,
    Offset,
    StartDate,
    Text,
    columns,
    paged,
    pair_filters,
)
from backend.api.schemas import (
    AccuracyPublic,
    DemandClass,
    ForecastPublic,
    ForecastsPublic,
    ForecastSummary,
)
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/forecasts", tags=["forecasts"], responses=ERRORS, dependencies=STRICT)
accuracy_router = APIRouter(
    prefix="/forecast-accuracy", tags=["forecasts"], responses=ERRORS, dependencies=STRICT
)

TABLE = "fct_forecasts"
SELECT = f"select {columns(ForecastPublic)} from delta_scan($t_fct_forecasts)"
FIELDS = tuple(ForecastPublic.model_fields)
WINDOWS = "(values ('7d', 7), ('30d', 30), ('90d', 90), ('1y', 365)) as w(win, days)"
# group_by choices map to fixed column names: the request never names a column itself.
GROUPS = {
    "demand_class": "demand_class",
    "model_version": "model_version",
    "depot_id": "depot_id",
    "horizon_day": "cast(horizon_day as varchar)",
}
ForecastDate = Annotated[
    IsoDate | None, Query(description="Forecast run date D; default: the latest run.")
]


@dataclass(frozen=True)
class ForecastQuery:
    """The filters and page of ``GET /forecasts``."""

    item_id: str | None = None
    depot_id: str | None = None
    category: str | None = None
    demand_class: str | None = None
    forecast_date: date | None = None
    start: date | None = None
    end: date | None = None
    limit: int = 100
    offset: int = 0


def query_forecasts(reader: GoldReader, principal: Principal, q: ForecastQuery) -> ForecastsPublic:
    """The page of ``q`` queried with DuckDB on the lake."""
    where, tables = _filters(principal, q.item_id, q.depot_id, q.category)
    where.add("demand_class = $demand_class", demand_class=q.demand_class)
    where.add("target_date >= $start", start=q.start).add("target_date <= $end", end=q.end)
    if q.forecast_date is None:
        where.add("forecast_date = (select max(forecast_date) from delta_scan($t_fct_forecasts))")
    else:
        where.add("forecast_date = $forecast_date", forecast_date=q.forecast_date)
    return paged(
        reader, ForecastsPublic, select=SELECT, where=where, tables=tables,
        order_by="item_id, depot_id, target_date", limit=q.limit, offset=q.offset,
    )  # fmt: skip


def held_forecasts(
    reader: GoldReader, principal: Principal, q: ForecastQuery, *, load: bool = True
) -> ForecastsPublic | None:
    """The page :func:`list_forecasts` answers for one item, sliced from the forecasts held
    in memory (backend/api/memtables.py); None when they are not held or the query is not
    one item's (the caller then asks DuckDB). Same filters, order and count as the SQL."""
    if q.item_id is None or q.category is not None:
        return None
    table = held(reader, TABLE, load=load)  # by item, depot, run and target date
    if table is None:
        return None
    rows = table.item_rows(q.item_id)
    cols = table.columns
    run = q.forecast_date if q.forecast_date is not None else table.max("forecast_date")
    if run is None:
        return ForecastsPublic(data=[], count=0, limit=q.limit, offset=q.offset)
    mask = cols["forecast_date"].equals(run, rows)
    if q.depot_id is not None:
        mask &= cols["depot_id"].equals(q.depot_id, rows)
    if principal.depots is not None:
        mask &= cols["depot_id"].isin(principal.depots, rows)
    if q.demand_class is not None:
        mask &= cols["demand_class"].equals(q.demand_class, rows)
    if q.start is not None:
        mask &= cols["target_date"].compare(operator.ge, q.start, rows)
    if q.end is not None:
        mask &= cols["target_date"].compare(operator.le, q.end, rows)
    # One item's rows of one run are in (depot_id, target_date) order already.
    found = np.flatnonzero(mask) + rows.start
    page = found[q.offset : q.offset + q.limit]
    return ForecastsPublic.model_validate(
        {"data": table.rows(page, FIELDS), "count": int(found.size), "limit": q.limit,
         "offset": q.offset}
    )  # fmt: skip


@warm_on_publish
def hold_forecasts(reader: GoldReader) -> object:
    """Load a new version's forecasts into memory before the first one-item read."""
    return held(reader, TABLE)


def _filters(
    principal: Principal, item_id: str | None, depot_id: str | None, category: str | None
) -> tuple[Where, list[str]]:
    where, extra = pair_filters(principal, item_id, depot_id, category)
    return where, [TABLE, *extra]


@router.get("", response_model=ForecastsPublic)
async def list_forecasts(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    demand_class: DemandClass | None = None,
    forecast_date: ForecastDate = None,
    start: StartDate = None,
    end: EndDate = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Forecast points of one run (the latest by default), target dates in [start, end]."""
    params: dict[str, Any] = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "demand_class": demand_class,
        "forecast_date": forecast_date,
        "start": start,
        "end": end,
    }

    query = ForecastQuery(**params, limit=limit, offset=offset)

    def build(reader: GoldReader) -> ForecastsPublic:
        page = held_forecasts(reader, principal, query)
        return page if page is not None else query_forecasts(reader, principal, query)

    def inline(reader: GoldReader) -> ForecastsPublic | None:
        return held_forecasts(reader, principal, query, load=False)

    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("forecasts", key, build, inline=inline)


@router.get("/summary", response_model=ForecastSummary)
async def forecast_summary(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
):
    """The latest run's total forecast, and accuracy over the last 7 days, 30 days, 90 days
    and 1 year of target dates with known actuals (all runs and horizons)."""
    params = {"item_id": item_id, "depot_id": depot_id, "category": category}

    def build(reader: GoldReader) -> ForecastSummary:
        where, tables = _filters(principal, item_id, depot_id, category)
        filtered = f"select * from delta_scan($t_fct_forecasts) where {where.sql}"
        totals = reader.rows(
            f"""
            with f as ({filtered}),
            latest as (select max(forecast_date) as d from f)
            select latest.d as forecast_date, coalesce(max(horizon_day), 0) as horizon_days,
                sum(yhat) as forecast_qty, sum(yhat_lo_95) as forecast_qty_lo_95,
                sum(yhat_hi_95) as forecast_qty_hi_95
            from latest left join f on f.forecast_date = latest.d
            group by latest.d
            """,
            tables=tables,
            params=where.params,
        )
        windows = reader.rows(
            f"""
            with f as ({filtered} and actual_qty is not null),
            ref as (select max(target_date) as d from f)
            select w.win as window, w.days, min(f.target_date) as start_date,
                max(f.target_date) as end_date, count(f.target_date) as points,
                sum(f.actual_qty) as actual_qty, sum(f.yhat) as forecast_qty,
                avg(f.abs_error) as mae,
                sum(f.abs_error) / nullif(sum(f.actual_qty), 0) as wape,
                (sum(f.yhat) - sum(f.actual_qty)) / nullif(sum(f.actual_qty), 0) as bias
            from {WINDOWS} cross join ref
            left join f on f.target_date > ref.d - w.days and f.target_date <= ref.d
            group by w.win, w.days
            order by w.days
            """,
            tables=tables,
            params=where.params,
        )
        head = totals[0] if totals else {"horizon_days": 0}
        if not windows:  # no fct_forecasts yet
            windows = [
                {"window": w, "days": d, "points": 0}
                for w, d in (("7d", 7), ("30d", 30), ("90d", 90), ("1y", 365))
            ]
        return ForecastSummary.model_validate({**params, **head, "accuracy": windows})

    return await lake.cached("forecasts.summary", {**params, "scope": principal.scope_key}, build)


@accuracy_router.get("", response_model=AccuracyPublic)
async def forecast_accuracy(
    lake: LakeDep,
    principal: CurrentPrincipal,
    group_by: Literal["demand_class", "model_version", "depot_id", "horizon_day"] = "demand_class",
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    start: StartDate = None,
    end: EndDate = None,
):
    """Forecast error by group over target dates in [start, end] with known actuals."""
    params: dict[str, Any] = {
        "group_by": group_by,
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "start": start,
        "end": end,
    }

    def build(reader: GoldReader) -> AccuracyPublic:
        where, tables = _filters(principal, item_id, depot_id, category)
        where.add("target_date >= $start", start=start).add("target_date <= $end", end=end)
        where.add("actual_qty is not null")
        rows = reader.rows(
            f"""
            select {GROUPS[group_by]} as "group", count(*) as points,
                sum(actual_qty) as actual_qty, avg(abs_error) as mae,
                sum(abs_error) / nullif(sum(actual_qty), 0) as wape,
                (sum(yhat) - sum(actual_qty)) / nullif(sum(actual_qty), 0) as bias
            from delta_scan($t_fct_forecasts)
            where {where.sql}
            group by 1
            order by 1
            """,
            tables=tables,
            params=where.params,
        )
        return AccuracyPublic.model_validate(
            {"group_by": group_by, "start_date": start, "end_date": end, "data": rows}
        )

    return await lake.cached("forecast-accuracy", {**params, "scope": principal.scope_key}, build)
