"""Operations KPIs: stock value, open alerts, pairs at risk, fill rate, forecast accuracy,
source freshness and the last run."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pyarrow.compute as pc
import pyarrow.fs as pafs
from deltalake import DeltaTable
from fastapi import APIRouter, Query

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.principal import Principal
from backend.api.routes.common import ERRORS, STRICT, Text, depot_scope
from backend.api.routes.runs import latest_run, list_run_ids, read_report
from backend.api.routes.series import on_hand_ctes
from backend.api.schemas_planner import (
    AccuracyWeek,
    AlertCounts,
    FillRateKpi,
    KpisPublic,
    RiskKpi,
    SlaTierAlerts,
    SourceFreshness,
    StockValuePoint,
)
from backend.lake import delta
from backend.lake.reader import GoldReader, Where
from backend.settings import Settings

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERRORS, dependencies=STRICT)

FILL_RATE_DAYS = 30
LATEST_ACTIONS = "as_of_date = (select max(as_of_date) from delta_scan($t_fct_actions))"
PARTITION = delta.PARTITION_COLUMN


def _scoped(principal: Principal, depot_id: str | None) -> Where:
    return depot_scope(Where().add("depot_id = $depot_id", depot_id=depot_id), principal)


def stock_by_month(reader: GoldReader, where: Where, months: int) -> list[StockValuePoint]:
    rows = reader.rows(
        f"""
        with per_day as (
            select snapshot_date, sum(stock_value) as stock_value, sum(on_hand) as on_hand
            from delta_scan($t_fct_inventory_snapshot) where {where.sql} group by 1
        ),
        last_of_month as (
            select max(snapshot_date) as snapshot_date from per_day
            group by date_trunc('month', snapshot_date)
        )
        select cast(date_trunc('month', snapshot_date) as date) as month, snapshot_date,
            coalesce(stock_value, 0) as stock_value, coalesce(on_hand, 0) as on_hand
        from per_day join last_of_month using (snapshot_date)
        order by snapshot_date desc limit $months
        """,
        tables=["fct_inventory_snapshot"],
        params={**where.params, "months": months},
    )
    return [StockValuePoint.model_validate(r) for r in reversed(rows)]


def open_alerts(reader: GoldReader, where: Where) -> list[SlaTierAlerts]:
    """The latest work list's alerted lines by worst SLA tier (the acknowledgement state
    from the app database will narrow "open" later)."""
    rows = reader.rows(
        f"""
        select worst_sla_tier as sla_tier,
            count(*) filter (where severity = 'critical') as critical,
            count(*) filter (where severity = 'warning') as warning,
            count(*) as total
        from delta_scan($t_fct_actions)
        where {LATEST_ACTIONS} and alert_id is not null and {where.sql}
        group by 1
        order by case sla_tier when 'platinum' then 0 when 'gold' then 1 when 'silver' then 2
            else 3 end
        """,
        tables=["fct_actions"],
        params=where.params,
    )
    return [SlaTierAlerts.model_validate(r) for r in rows]


def at_risk(reader: GoldReader, where: Where) -> RiskKpi:
    rows = reader.rows(
        f"""
        with a as (
            select * from delta_scan($t_fct_actions) where {LATEST_ACTIONS} and {where.sql}
        ),
        r as (
            select item_id, depot_id, as_of_date, lead_time_days
            from delta_scan($t_fct_reorder_points)
        )
        select count(*) as pairs, coalesce(sum(a.value_at_risk), 0) as value_at_risk
        from a join r using (item_id, depot_id, as_of_date)
        where a.days_to_stockout <= r.lead_time_days
        """,
        tables=["fct_actions", "fct_reorder_points"],
        params=where.params,
    )
    return RiskKpi.model_validate(rows[0]) if rows else RiskKpi(pairs=0, value_at_risk=0.0)


def fill_rate(reader: GoldReader, where: Where) -> FillRateKpi:
    """Issued / (issued + lost) over the last FILL_RATE_DAYS demand days; a pair-day is a
    stock-out when it opened with nothing on hand and received nothing, and loses the
    pair's average daily demand."""
    latest = "(select max(demand_date) from delta_scan($t_fct_daily_demand))"
    rows = reader.rows(
        f"""
        with {on_hand_ctes(where.sql, f"{latest} - $days")},
        opened as (
            select *, lag(on_hand) over (partition by item_id, depot_id order by d) as at_open
            from carried
        ),
        demand_rate as (
            select item_id, depot_id, arg_max(avg_daily_demand, as_of_date) as rate
            from delta_scan($t_fct_reorder_points) where {where.sql} group by all
        ),
        window_days as (
            select opened.*, coalesce(at_open <= 0 and receipts_qty = 0, false) as stockout,
                demand_rate.rate
            from opened left join demand_rate using (item_id, depot_id)
            where d > {latest} - $days
        )
        select min(d) as start_date, max(d) as end_date,
            coalesce(sum(demand_qty), 0) as issued_qty,
            count(*) filter (where stockout) as stockout_days,
            coalesce(sum(rate) filter (where stockout), 0) as lost_qty
        from window_days
        """,
        tables=["fct_daily_demand", "fct_inventory_snapshot", "fct_reorder_points"],
        params={**where.params, "days": FILL_RATE_DAYS},
    )
    if not rows:
        return FillRateKpi.model_validate({"issued_qty": 0, "stockout_days": 0, "lost_qty": 0})
    row = rows[0]
    demanded = row["issued_qty"] + row["lost_qty"]
    return FillRateKpi.model_validate(
        {**row, "fill_rate": row["issued_qty"] / demanded if demanded > 0 else None}
    )


def accuracy_by_week(reader: GoldReader, where: Where, weeks: int) -> list[AccuracyWeek]:
    rows = reader.rows(
        f"""
        with f as (
            select * from delta_scan($t_fct_forecasts)
            where actual_qty is not null and {where.sql}
        ),
        ref as (select max(target_date) as d from f)
        select cast(date_trunc('week', target_date) as date) as week_start, count(*) as points,
            sum(actual_qty) as actual_qty, sum(yhat) as forecast_qty,
            sum(abs_error) / nullif(sum(actual_qty), 0) as wape,
            (sum(yhat) - sum(actual_qty)) / nullif(sum(actual_qty), 0) as bias
        from f, ref
        where date_trunc('week', target_date) > date_trunc('week', ref.d) - to_weeks($weeks)
        group by 1 order by 1
        """,
        tables=["fct_forecasts"],
        params={**where.params, "weeks": weeks},
    )
    return [AccuracyWeek.model_validate(r) for r in rows]


JUDGED = ("status", "age_days", "max_age_days")


def latest_freshness(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each source's freshness as the newest readable run report judged it."""
    for run_id in list_run_ids(settings):
        report = read_report(settings, run_id)
        if report is not None:
            return dict(report.get("freshness") or {})
    return {}


def freshness(settings: Settings) -> list[SourceFreshness]:
    """Per bronze source: the newest ``_ingest_date`` partition of each table, from the
    Delta log (no data read), then the latest ``_ingested_at`` inside that partition only.
    (The log's column statistics would be cheaper still, but delta-rs keeps them for the
    first 32 columns only, and the audit columns come last.) With each, its status as the
    latest run report judged it on that run's date (backend/pipeline/freshness.py)."""
    root = delta.table_uri("bronze", settings=settings)
    options = delta.storage_options(settings)
    judged = latest_freshness(settings)
    out = []
    for source in delta.list_dir(root, settings):
        if source.type != pafs.FileType.Directory:
            continue
        tables, newest_day, newest_at = 0, None, None
        for entity in delta.list_dir(f"{root}/{source.base_name}", settings):
            uri = f"{root}/{source.base_name}/{entity.base_name}"
            if entity.type != pafs.FileType.Directory or not delta.table_exists(uri, settings):
                continue
            tables += 1
            table = DeltaTable(uri, storage_options=options)
            days = [p[PARTITION] for p in table.partitions() if p.get(PARTITION)]
            if not days:
                continue
            day = date.fromisoformat(max(days))
            loaded = table.to_pyarrow_table(
                filters=[(PARTITION, "=", day)], columns=["_ingested_at"]
            )
            at = pc.max(loaded["_ingested_at"]).as_py() if loaded.num_rows else None
            newest_day = day if newest_day is None else max(newest_day, day)
            if at is not None and (newest_at is None or at > newest_at):
                newest_at = at
        out.append(
            SourceFreshness(
                source=source.base_name,
                tables=tables,
                latest_ingest_date=newest_day,
                latest_ingested_at=newest_at.isoformat() if newest_at else None,
                **{k: judged.get(source.base_name, {}).get(k) for k in JUDGED},
            )
        )
    return sorted(out, key=lambda s: s.source)


def build_kpis(
    reader: GoldReader, *, principal: Principal, depot_id: str | None, months: int, weeks: int
) -> KpisPublic:
    where = _scoped(principal, depot_id)
    by_month = stock_by_month(reader, where, months)
    tiers = open_alerts(reader, where)
    counts: dict[str, Any] = {
        level: sum(getattr(t, level) for t in tiers) for level in ("critical", "warning", "total")
    }
    return KpisPublic(
        depot_id=depot_id,
        as_of_date=by_month[-1].snapshot_date if by_month else None,
        stock_value=by_month[-1].stock_value if by_month else 0.0,
        stock_value_by_month=by_month,
        open_alerts=AlertCounts(**counts),
        open_alerts_by_sla_tier=tiers,
        at_risk=at_risk(reader, where),
        fill_rate=fill_rate(reader, where),
        accuracy_by_week=accuracy_by_week(reader, where, weeks),
        freshness=freshness(reader.settings),
        last_run=latest_run(reader.settings),
    )


@router.get("", response_model=KpisPublic)
async def get_kpis(
    lake: LakeDep,
    principal: CurrentPrincipal,
    depot_id: Text = None,
    months: Annotated[int, Query(ge=1, le=60, description="Months of stock value history.")] = 12,
    weeks: Annotated[int, Query(ge=1, le=104, description="Weeks of forecast accuracy.")] = 12,
):
    """Stock value now and by month, open alerts by severity and SLA tier, pairs at risk
    within their lead time, the 30-day fill rate, forecast accuracy by week, each source's
    freshness and the last run's status; for one depot or all the caller may see."""
    params = {"depot_id": depot_id, "months": months, "weeks": weeks}
    params["scope"] = principal.scope_key

    def build(reader: GoldReader) -> KpisPublic:
        return build_kpis(reader, principal=principal, depot_id=depot_id, months=months,
                          weeks=weeks)  # fmt: skip

    return await lake.cached("kpis", params, build)
