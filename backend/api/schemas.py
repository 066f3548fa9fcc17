"""Response models: one family per resource (``ItemPublic``, ``ItemsPublic(data, count)``)."""

from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

Severity = Literal["warning", "critical"]
DemandClass = Literal["smooth", "erratic", "intermittent", "lumpy"]


class PageOf(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="Rows matching the filters, over all pages.")
    limit: int
    offset: int


class Message(BaseModel):
    detail: str


class ItemPublic(BaseModel):
    item_id: str
    item_name: str | None = None
    category: str | None = None
    family: str | None = None
    technology: str | None = None
    supplier_id: str | None = None
    supplier_name: str | None = None
    unit_cost: float | None = None
    lead_time_days: int | None = None
    min_order_qty: int | None = None
    min_stock: int | None = None
    max_stock: int | None = None


class ItemsPublic(PageOf[ItemPublic]):
    pass


class TowerPublic(BaseModel):
    tower_id: str
    depot_id: str | None = None
    municipality: str | None = None
    state: str | None = None
    sla_tier: str | None = None
    technology: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    commissioned_date: date | None = None


class TowersPublic(PageOf[TowerPublic]):
    pass


class DepotPublic(BaseModel):
    depot_id: str
    depot_name: str | None = None
    municipality: str | None = None
    state: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class DepotsPublic(PageOf[DepotPublic]):
    pass


class InventoryPositionPublic(BaseModel):
    item_id: str
    depot_id: str
    snapshot_date: date
    category: str | None = None
    on_hand: int | None = None
    on_order: int | None = None
    unit_cost: float | None = None
    stock_value: float | None = None


class InventoryPublic(PageOf[InventoryPositionPublic]):
    pass


class ForecastPublic(BaseModel):
    forecast_date: date
    item_id: str
    depot_id: str
    target_date: date
    horizon_day: int | None = None
    demand_class: str | None = None
    yhat: float | None = None
    yhat_lo_80: float | None = None
    yhat_hi_80: float | None = None
    yhat_lo_95: float | None = None
    yhat_hi_95: float | None = None
    model_version: str | None = None
    actual_qty: float | None = None
    abs_error: float | None = None


class ForecastsPublic(PageOf[ForecastPublic]):
    pass


class AccuracyWindow(BaseModel):
    window: Literal["7d", "30d", "90d", "1y"]
    days: int
    start_date: date | None = Field(None, description="First target date in the window.")
    end_date: date | None = Field(None, description="Last target date with a known actual.")
    points: int = Field(description="Forecast points with a known actual in the window.")
    actual_qty: float | None = None
    forecast_qty: float | None = None
    mae: float | None = Field(None, description="Mean absolute error per point.")
    wape: float | None = Field(
        None, description="Sum of absolute errors over the sum of actuals (null when no demand)."
    )
    bias: float | None = Field(None, description="(forecast - actual) / actual over the window.")


class ForecastSummary(BaseModel):
    item_id: str | None = None
    depot_id: str | None = None
    category: str | None = None
    forecast_date: date | None = Field(None, description="The latest forecast run (date D).")
    horizon_days: int = Field(description="Days ahead the latest run forecasts.")
    forecast_qty: float | None = Field(None, description="Sum of yhat of the latest run.")
    forecast_qty_lo_95: float | None = None
    forecast_qty_hi_95: float | None = None
    accuracy: list[AccuracyWindow]


class AccuracyGroup(BaseModel):
    group: str | None
    points: int
    actual_qty: float | None = None
    mae: float | None = None
    wape: float | None = None
    bias: float | None = None


class AccuracyPublic(BaseModel):
    group_by: str
    start_date: date | None = None
    end_date: date | None = None
    data: list[AccuracyGroup]


class ReorderPointPublic(BaseModel):
    as_of_date: date
    item_id: str
    depot_id: str
    demand_class: str | None = None
    service_level: float | None = None
    lead_time_days: float | None = None
    avg_daily_demand: float | None = None
    demand_std_lead_time: float | None = None
    safety_stock: float | None = None
    reorder_point: float | None = None
    order_up_to: float | None = None
    on_hand: float | None = None
    on_order: float | None = None
    suggested_order_qty: float | None = None
    unit_cost: float | None = None


class ReorderPointsPublic(PageOf[ReorderPointPublic]):
    pass


class AlertPublic(BaseModel):
    alert_id: str
    alert_date: date
    item_id: str
    depot_id: str
    severity: str
    on_hand: float | None = None
    on_order: float | None = None
    projected_position: float | None = None
    reorder_point: float | None = None
    safety_stock: float | None = None
    suggested_order_qty: float | None = None
    days_to_stockout: int | None = None
    message: str | None = None
    source: Literal["daily", "stream"] = Field(
        "daily", description="daily: the pipeline's fct_stock_alerts; stream: `nova stream`."
    )


class AlertsPublic(PageOf[AlertPublic]):
    pass


class ApiKeyPublic(BaseModel):
    key_id: str
    role: str
    name: str
    created_at: str
    revoked_at: str | None = None


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic]
    count: int


class DependencyHealth(BaseModel):
    status: Literal["ok", "down", "disabled"]
    detail: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    gold_version: str | None
    gold_published_at: str | None = None
    dependencies: dict[str, DependencyHealth]


class Probe(BaseModel):
    status: Literal["ok"] = Field(description="Always `ok` when the probe passes.")
