"""Stock alerts of the daily run (fct_stock_alerts); live ones come over /ws/alerts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    EndDate,
    Limit,
    Offset,
    StartDate,
    Text,
    category_filter,
    columns,
    depot_scope,
    paged,
)
from backend.api.schemas import AlertPublic, AlertsPublic, Severity
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERRORS, dependencies=STRICT)
SELECT = (
    f"select {columns(AlertPublic, skip=['source'])}, 'daily' as source "
    "from delta_scan($t_fct_stock_alerts)"
)


@router.get("", response_model=AlertsPublic)
async def list_alerts(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    severity: Severity | None = None,
    start: StartDate = None,
    end: EndDate = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Alerts with alert dates in [start, end], newest first."""
    params: dict[str, Any] = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "severity": severity,
        "start": start,
        "end": end,
    }

    def build(reader: GoldReader) -> AlertsPublic:
        where = (
            Where()
            .add("item_id = $item_id", item_id=item_id)
            .add("depot_id = $depot_id", depot_id=depot_id)
            .add("severity = $severity", severity=severity)
            .add("alert_date >= $start", start=start)
            .add("alert_date <= $end", end=end)
        )
        depot_scope(where, principal, "depot_id")
        tables = ["fct_stock_alerts", *category_filter(where, category)]
        return paged(
            reader, AlertsPublic, select=SELECT, where=where, tables=tables,
            order_by="alert_date desc, severity, item_id, depot_id", limit=limit, offset=offset,
        )  # fmt: skip

    key = {**params, "limit": limit, "offset": offset, "scope": principal.scope_key}
    return await lake.cached("alerts", key, build)
