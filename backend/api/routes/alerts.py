"""Stock alerts of the daily run (fct_stock_alerts); live ones come over /ws/alerts.

Each alert shows what planners did about it (state, from the app database): gold rows are
cached under the gold version, the states are read fresh on every request.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.planning import Planning, get_planning
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    EndDate,
    Limit,
    Offset,
    StartDate,
    Text,
    columns,
    paged,
    pair_filters,
)
from backend.api.schemas import AlertPublic, AlertsPublic, Severity
from backend.api.schemas_orders import AlertState, AlertStateFields, AlertsWithState
from backend.appdb.alert_states import StoredState, effective_state, states_for
from backend.lake.reader import GoldReader, Where

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERRORS, dependencies=STRICT)
SELECT = (
    f"select {columns(AlertPublic, skip=['source'])}, 'daily' as source "
    "from delta_scan($t_fct_stock_alerts)"
)


ORDER_BY = "alert_date desc, severity, item_id, depot_id"


@router.get("", response_model=AlertsWithState)
async def list_alerts(
    lake: LakeDep,
    principal: CurrentPrincipal,
    planning: Annotated[Planning, Depends(get_planning)],
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    severity: Severity | None = None,
    state: Annotated[
        AlertState | None, Query(description="Only alerts in this state (see `state`).")
    ] = None,
    start: StartDate = None,
    end: EndDate = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AlertsWithState:
    """Alerts with alert dates in [start, end], newest first, each with its state."""
    params: dict[str, Any] = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "severity": severity,
        "start": start,
        "end": end,
        "scope": principal.scope_key,
    }

    def where_tables() -> tuple[Where, list[str]]:
        where, extra = pair_filters(principal, item_id, depot_id, category)
        where.add("severity = $severity", severity=severity)
        where.add("alert_date >= $start", start=start).add("alert_date <= $end", end=end)
        return where, ["fct_stock_alerts", *extra]

    def build_page(reader: GoldReader) -> AlertsPublic:
        where, tables = where_tables()
        return paged(
            reader, AlertsPublic, select=SELECT, where=where, tables=tables,
            order_by=ORDER_BY, limit=limit, offset=offset,
        )  # fmt: skip

    def build_all(reader: GoldReader) -> AlertsPublic:
        """Every matching alert (a day's alerts: thousands at most), to filter by state."""
        where, tables = where_tables()
        rows = reader.rows(f"{SELECT} where {where.sql} order by {ORDER_BY}", tables=tables,
                           params=where.params)  # fmt: skip
        return AlertsPublic.model_validate(
            {"data": rows, "count": len(rows), "limit": len(rows), "offset": 0}
        )

    # Cached under the gold version but not through lake.cached: the answer also depends on
    # the app database, so the fast path must never replay it.
    route = "alerts" if state is None else "alerts:all"
    paging = {"limit": limit, "offset": offset} if state is None else {}
    build = build_page if state is None else build_all
    body = await lake.cached_body(route, {**params, **paging}, build, fast_path=False)
    gold = AlertsPublic.model_validate_json(body)

    def read_states() -> dict[str, StoredState]:
        with Session(planning.engine) as session:
            return states_for(session, [row.alert_id for row in gold.data])

    stored = await asyncio.to_thread(read_states)
    today = planning.today()
    rows = []
    for row in gold.data:
        record = stored.get(row.alert_id)
        now_state = effective_state(record, severity=row.severity, today=today)
        if state is None or now_state == state:
            fields = AlertStateFields.values(record, now_state)
            rows.append({**row.model_dump(), **fields})
    if state is None:
        return AlertsWithState.model_validate(
            {"data": rows, "count": gold.count, "limit": limit, "offset": offset}
        )
    return AlertsWithState.model_validate(
        {"data": rows[offset : offset + limit], "count": len(rows), "limit": limit,
         "offset": offset}
    )  # fmt: skip
