"""Response models of the planner read routes: /actions, /series, /kpis, /runs.

Every field has a description and an example: the workbench's typed client and the
OpenAPI page are generated from them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from backend.api.schemas import PageOf, Severity

Action = Literal["order", "expedite", "transfer", "watch"]
SlaTier = Literal["platinum", "gold", "silver"]

# --- /actions -----------------------------------------------------------------------


class ActionPublic(BaseModel):
    """One line of the day's work list (gold mart ``fct_actions``)."""

    action_id: str = Field(
        description="Stable id of the line: a key of (as_of_date, item_id, depot_id).",
        examples=["5127093843521794"],
    )
    as_of_date: date = Field(description="The run date D the list is for.", examples=["2026-10-31"])
    item_id: str = Field(description="The item (dim_items).", examples=["ITM0042"])
    item_name: str | None = Field(None, description="The item's name.", examples=["Radio RRU 4G"])
    category: str | None = Field(None, description="The item's category.", examples=["radio"])
    depot_id: str = Field(description="The depot (dim_depots).", examples=["DEP-SSA"])
    supplier_id: str | None = Field(None, description="The item's supplier.", examples=["SUP01"])
    supplier_name: str | None = Field(None, description="The supplier's name.", examples=["Acme"])
    action: Action = Field(
        description="order N units, expedite an open purchase order, transfer N units from "
        "another depot, or watch.",
        examples=["order"],
    )
    quantity: float | None = Field(
        None,
        description="Units: to order (a multiple of the MOQ, never 0), to transfer, or the "
        "expedited order's quantity; null for watch.",
        examples=[40.0],
    )
    severity: Severity | None = Field(
        None, description="The pair's stock alert, if it has one.", examples=["critical"]
    )
    alert_id: str | None = Field(
        None,
        description="The alert episode's id: the same for as long as the pair stays alerted.",
        examples=["8812930412399012"],
    )
    reason_code: str | None = Field(
        None, description="A stable code of the rule that chose the action.",
        examples=["stockout_before_arrival"],
    )  # fmt: skip
    reason: str | None = Field(
        None,
        description="Why, in one sentence (pt-BR), with the numbers.",
        examples=["Estoque acaba em 3 dias; o pedido PO-1 chega em 9 dias."],
    )
    days_to_stockout: int | None = Field(
        None, description="Days until the projected stock runs out; null: not within the "
        "horizon.", examples=[3],
    )  # fmt: skip
    stockout_date: date | None = Field(
        None, description="The day the projected stock runs out.", examples=["2026-11-03"]
    )
    on_hand: float | None = Field(None, description="Units on hand.", examples=[4.0])
    on_order: float | None = Field(
        None, description="Units on open ERP purchase orders.", examples=[20.0]
    )
    approved_on_order: float | None = Field(
        None, description="Units on approved workbench orders the ERP does not show yet.",
        examples=[0.0],
    )  # fmt: skip
    reorder_point: float | None = Field(None, description="Reorder point (units).", examples=[12.5])
    safety_stock: float | None = Field(None, description="Safety stock (units).", examples=[5.2])
    order_up_to: float | None = Field(
        None, description="Order-up-to level (units).", examples=[30.0]
    )
    min_order_qty: float | None = Field(
        None, description="The supplier's minimum order quantity (MOQ).", examples=[10.0]
    )
    unit_cost: float | None = Field(None, description="Unit cost in BRL.", examples=[125.0])
    expedite_po_id: str | None = Field(
        None, description="expedite only: the purchase order to hurry.", examples=["PO-000123"]
    )
    expedite_expected_date: date | None = Field(
        None, description="expedite only: when that order is expected.", examples=["2026-11-09"]
    )
    transfer_from_depot_id: str | None = Field(
        None, description="transfer only: the depot to take the units from.", examples=["DEP-FSA"]
    )
    towers_exposed: int | None = Field(
        None, description="Towers of the depot that consumed the item in the last 365 days.",
        examples=[7],
    )  # fmt: skip
    sla_tiers: str | None = Field(
        None, description="SLA tiers of those towers, comma-separated, best first.",
        examples=["platinum,gold"],
    )  # fmt: skip
    worst_sla_tier: SlaTier | None = Field(
        None, description="The most demanding tier exposed (platinum > gold > silver).",
        examples=["platinum"],
    )  # fmt: skip
    value_at_risk: float | None = Field(
        None, description="BRL: unit cost x the projected shortfall over the lead time.",
        examples=[1250.0],
    )  # fmt: skip
    order_value: float | None = Field(
        None, description="BRL: unit cost x quantity; null for watch.", examples=[5000.0]
    )
    priority: float | None = Field(
        None, description="The default order, descending: risk x value (see fct_actions).",
        examples=[0.87],
    )  # fmt: skip


class ActionsPublic(PageOf[ActionPublic]):
    """A page of the latest work list."""


# --- /series ------------------------------------------------------------------------


class HistoryPoint(BaseModel):
    period_start: date = Field(
        description="The day, or the Monday of the ISO week.", examples=["2026-10-26"]
    )
    days: int = Field(
        description="Days of the period inside the range (a week at either end may be partial).",
        examples=[7],
    )
    demand_qty: float = Field(
        description="Units issued (fct_daily_demand.demand_qty), summed over the series.",
        examples=[23.0],
    )
    on_hand: float | None = Field(
        None,
        description="Units on hand at the end of the period's last day, summed over the series: "
        "the latest inventory snapshot on or before that day (or the next one) rolled forward "
        "(backward) with the day's receipts, adjustments and issues; null before any snapshot.",
        examples=[41.0],
    )


class ForecastBand(BaseModel):
    period_start: date = Field(
        description="The target day, or the Monday of the ISO week.", examples=["2026-11-02"]
    )
    days: int = Field(
        description="Forecast days in the period (the first and last week may be partial).",
        examples=[7],
    )
    series: int = Field(description="Item x depot series summed in the period.", examples=[120])
    yhat: float = Field(description="Expected demand (units): the sum of yhat.", examples=[35.0])
    yhat_lo_80: float = Field(description="Lower bound of the 80% interval.", examples=[27.4])
    yhat_hi_80: float = Field(description="Upper bound of the 80% interval.", examples=[42.6])
    yhat_lo_95: float = Field(description="Lower bound of the 95% interval.", examples=[23.4])
    yhat_hi_95: float = Field(description="Upper bound of the 95% interval.", examples=[46.6])


class SeriesPublic(BaseModel):
    group: Literal["pair", "aggregate"] = Field(
        description="pair: one item x depot (item_id and depot_id given); aggregate: the sum "
        "over every series the filters select.",
        examples=["pair"],
    )
    grain: Literal["day", "week"] = Field(description="Period of each point.", examples=["day"])
    item_id: str | None = Field(None, description="The item, if filtered.", examples=["ITM0042"])
    depot_id: str | None = Field(None, description="The depot, if filtered.", examples=["DEP-SSA"])
    category: str | None = Field(None, description="The category, if filtered.", examples=["radio"])
    series_count: int = Field(
        description="Item x depot series in the aggregate (1 for a pair).", examples=[1]
    )
    start_date: date = Field(description="First day of the history.", examples=["2026-08-03"])
    end_date: date = Field(
        description="Last day of the history and of the forecast shown.", examples=["2026-10-31"]
    )
    history: list[HistoryPoint] = Field(description="Demand and on-hand history, oldest first.")
    forecast_date: date | None = Field(
        None, description="The run date of the latest forecast.", examples=["2026-10-31"]
    )
    band_method: Literal["model", "normal_moments"] = Field(
        description="model: the forecast model's own intervals (a pair, daily); normal_moments: "
        "each point's spread derived from its bands, means and variances summed, normal "
        "quantiles clipped at 0 (see docs/api-series.md).",
        examples=["model"],
    )
    forecast: list[ForecastBand] = Field(description="The latest forecast with its bands.")
    reorder_point: float | None = Field(
        None, description="The pair's reorder point (fct_reorder_points; pair only).",
        examples=[12.5],
    )  # fmt: skip
    safety_stock: float | None = Field(
        None, description="The pair's safety stock (pair only).", examples=[5.2]
    )
    reorder_as_of_date: date | None = Field(
        None, description="The run date of that reorder point.", examples=["2026-10-31"]
    )


# --- /kpis --------------------------------------------------------------------------


class StockValuePoint(BaseModel):
    month: date = Field(description="First day of the month.", examples=["2026-09-01"])
    snapshot_date: date = Field(
        description="The month's last inventory snapshot.", examples=["2026-09-30"]
    )
    stock_value: float = Field(
        description="BRL: on hand x the item's current unit cost, summed.", examples=[182340.5]
    )
    on_hand: float = Field(description="Units on hand, summed.", examples=[5120.0])


class AlertCounts(BaseModel):
    critical: int = Field(description="Open critical alerts.", examples=[12])
    warning: int = Field(description="Open warnings.", examples=[30])
    total: int = Field(description="All open alerts.", examples=[42])


class SlaTierAlerts(AlertCounts):
    sla_tier: str | None = Field(
        description="The worst SLA tier the pair exposes; null: no tower exposed.",
        examples=["platinum"],
    )


class RiskKpi(BaseModel):
    pairs: int = Field(
        description="Item x depot pairs whose projected stockout falls within their lead time "
        "(fct_actions.days_to_stockout <= fct_reorder_points.lead_time_days): an order "
        "placed today arrives too late.",
        examples=[17],
    )
    value_at_risk: float = Field(
        description="BRL: the sum of those pairs' value at risk.", examples=[53400.0]
    )


class FillRateKpi(BaseModel):
    start_date: date | None = Field(
        None, description="First day of the window (30 days).", examples=["2026-10-02"]
    )
    end_date: date | None = Field(
        None, description="Last day: the latest demand date.", examples=["2026-10-31"]
    )
    issued_qty: float = Field(description="Units issued in the window.", examples=[1840.0])
    stockout_days: int = Field(
        description="Pair-days that opened with nothing on hand and received nothing.",
        examples=[12],
    )
    lost_qty: float = Field(
        description="Estimated units not served: the pair's average daily demand "
        "(fct_reorder_points) on each stock-out day.",
        examples=[21.5],
    )
    fill_rate: float | None = Field(
        None,
        description="Estimated unit fill rate, issued / (issued + lost). Gold records what was "
        "issued, not demand that met an empty shelf, so lost demand is estimated as above; "
        "on-hand per day is rebuilt backwards from the latest snapshot with fct_daily_demand's "
        "receipts, adjustments and issues. Null when nothing was demanded.",
        examples=[0.988],
    )


class AccuracyWeek(BaseModel):
    week_start: date = Field(description="Monday of the target week.", examples=["2026-10-26"])
    points: int = Field(
        description="Forecast points with a known actual (all runs and horizons).", examples=[840]
    )
    actual_qty: float | None = Field(None, description="Sum of actuals.", examples=[410.0])
    forecast_qty: float | None = Field(None, description="Sum of yhat.", examples=[398.2])
    wape: float | None = Field(
        None, description="Sum of absolute errors over the sum of actuals.", examples=[0.41]
    )
    bias: float | None = Field(
        None, description="(forecast - actual) / actual over the week.", examples=[-0.03]
    )


class SourceFreshness(BaseModel):
    source: str = Field(description="The bronze source.", examples=["erp"])
    tables: int = Field(description="Its bronze tables.", examples=[5])
    latest_ingested_at: str | None = Field(
        None,
        description="Latest _ingested_at (UTC, ISO 8601) in the newest _ingest_date partition of "
        "any of its tables; null when it never loaded a row.",
        examples=["2026-11-01T05:03:12+00:00"],
    )
    latest_ingest_date: date | None = Field(
        None, description="The newest _ingest_date partition (the run date D loaded).",
        examples=["2026-10-31"],
    )  # fmt: skip
    status: Literal["fresh", "stale", "failed"] | None = Field(
        None, description="Its freshness in the latest run report, judged on that run's date "
        "(stale: older than its limit; failed: its extract failed); null when that run did "
        "not read it.", examples=["fresh"],
    )  # fmt: skip
    age_days: int | None = Field(
        None, description="Days between its newest data and the latest run's date.", examples=[0]
    )
    max_age_days: int | None = Field(
        None, description="Its limit (NOVA_FRESHNESS_<SOURCE>_DAYS); null: none.", examples=[3]
    )


class RunSummary(BaseModel):
    run_id: str = Field(
        description="The run's id: dates, UTC stamp, 6 hex digits.",
        examples=["20261031-20261031-20261101T050312Z-a1b2c3"],
    )
    kind: str = Field(description="run (a day) or backfill.", examples=["run"])
    status: Literal["running", "success", "degraded", "failed"] = Field(
        description="The run's outcome.", examples=["success"]
    )
    start: date = Field(description="First run date of the run.", examples=["2026-10-31"])
    end: date = Field(description="Last run date of the run.", examples=["2026-10-31"])
    started_at: str | None = Field(
        None, description="UTC start, from the run id (ISO 8601).",
        examples=["2026-11-01T05:03:12+00:00"],
    )  # fmt: skip
    seconds: float | None = Field(None, description="Time of all steps.", examples=[165.2])
    errors: int = Field(description="Errors recorded.", examples=[0])


class KpisPublic(BaseModel):
    depot_id: str | None = Field(None, description="The depot filter, if any.", examples=[None])
    as_of_date: date | None = Field(
        None, description="The latest inventory snapshot date.", examples=["2026-10-31"]
    )
    stock_value: float = Field(
        description="BRL: on hand x unit cost at the latest snapshot.", examples=[190230.0]
    )
    stock_value_by_month: list[StockValuePoint] = Field(
        description="Stock value at each month's last snapshot, oldest first."
    )
    open_alerts: AlertCounts = Field(description="The latest work list's alerts by severity.")
    open_alerts_by_sla_tier: list[SlaTierAlerts] = Field(
        description="The same alerts by the worst SLA tier they expose."
    )
    at_risk: RiskKpi = Field(description="Pairs at risk within their lead time.")
    fill_rate: FillRateKpi = Field(description="Fill rate over the last 30 days.")
    accuracy_by_week: list[AccuracyWeek] = Field(
        description="Forecast accuracy by target week, oldest first."
    )
    freshness: list[SourceFreshness] = Field(description="Each bronze source's latest load.")
    last_run: RunSummary | None = Field(
        None,
        description="The newest run report when this response was built (cached per gold "
        "version for at most the cache TTL; /runs reads reports live).",
    )


# --- /runs --------------------------------------------------------------------------


class RunsPublic(PageOf[RunSummary]):
    """Run reports, newest first."""


class RunStep(BaseModel):
    name: str = Field(description="The step.", examples=["extract"])
    status: Literal["success", "failed", "skipped"] = Field(
        description="Its outcome.", examples=["success"]
    )
    seconds: float = Field(description="Its duration.", examples=[1.4])
    rows: int = Field(0, description="Rows it handled.", examples=[52311])
    rows_per_second: float | None = Field(None, description="rows / seconds.", examples=[37365.0])
    detail: dict[str, Any] = Field(
        default_factory=dict, description="What the step returned.", examples=[{"erp": 5}]
    )


class TableRows(BaseModel):
    rows_read: int = Field(0, description="Rows read.", examples=[1200])
    rows_written: int = Field(0, description="Rows written.", examples=[1198])
    rows_quarantined: int = Field(0, description="Rows sent to quarantine.", examples=[2])


class RunReportPublic(RunSummary):
    steps: list[RunStep] = Field(description="The steps, in order.")
    tables: dict[str, TableRows] = Field(
        description="Rows per table (bronze.<source>.<entity>, gold.<mart>, ...).",
        examples=[{"bronze.erp.items": {"rows_read": 3, "rows_written": 3, "rows_quarantined": 0}}],
    )
    quarantined: int = Field(description="Rows quarantined over all tables.", examples=[2])
    dbt_tests: dict[str, int] = Field(
        description="dbt test results by status.",
        examples=[{"pass": 120, "warn": 0, "fail": 0, "error": 0}],
    )
    layers: dict[str, float] = Field(
        default_factory=dict, description="Seconds per layer.", examples=[{"silver": 4.2}]
    )
    error_messages: list[str] = Field(description="The errors.", examples=[[]])
    notes: list[str] = Field(
        description="Notes (e.g. a skipped step and why).",
        examples=[["forecast skipped: no champion"]],
    )
