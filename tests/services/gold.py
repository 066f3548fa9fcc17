"""Small gold Delta tables of the contract shape, for the API and stream tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from backend.lake import delta
from backend.lake.reader import write_gold_version
from backend.settings import Settings

ITEMS = ["ITM001", "ITM002", "ITM003"]
DEPOTS = ["DEP01", "DEP02"]
RUN_DATE = date(2026, 10, 31)


def write_gold(
    settings: Settings, name: str, rows: list[dict[str, Any]], schema: pa.Schema
) -> None:
    table = pa.Table.from_pylist(rows, schema=schema)
    write_deltalake(
        delta.table_uri("gold", name, settings=settings), table, mode="overwrite",
        schema_mode="overwrite", storage_options=delta.storage_options(settings),
    )  # fmt: skip


S, D, INT, DT = pa.string(), pa.float64(), pa.int64(), pa.date32()

SCHEMAS = {
    "dim_items": pa.schema(
        [
            ("item_id", S),
            ("item_name", S),
            ("category", S),
            ("family", S),
            ("technology", S),
            ("supplier_id", S),
            ("supplier_name", S),
            ("unit_cost", D),
            ("lead_time_days", INT),
            ("min_order_qty", INT),
            ("min_stock", INT),
            ("max_stock", INT),
        ]
    ),
    "dim_depots": pa.schema(
        [
            ("depot_id", S),
            ("depot_name", S),
            ("municipality", S),
            ("state", S),
            ("latitude", D),
            ("longitude", D),
        ]
    ),
    "dim_towers": pa.schema(
        [
            ("tower_id", S),
            ("depot_id", S),
            ("municipality", S),
            ("state", S),
            ("sla_tier", S),
            ("technology", S),
            ("latitude", D),
            ("longitude", D),
            ("commissioned_date", DT),
        ]
    ),
    "fct_inventory_snapshot": pa.schema(
        [
            ("item_id", S),
            ("depot_id", S),
            ("snapshot_date", DT),
            ("on_hand", INT),
            ("on_order", INT),
            ("unit_cost", D),
            ("stock_value", D),
        ]
    ),
    "fct_forecasts": pa.schema(
        [
            ("forecast_date", DT),
            ("item_id", S),
            ("depot_id", S),
            ("target_date", DT),
            ("horizon_day", pa.int32()),
            ("demand_class", S),
            ("yhat", D),
            ("yhat_lo_80", D),
            ("yhat_hi_80", D),
            ("yhat_lo_95", D),
            ("yhat_hi_95", D),
            ("model_version", S),
            ("actual_qty", D),
            ("abs_error", D),
        ]
    ),
    "fct_reorder_points": pa.schema(
        [
            ("as_of_date", DT),
            ("item_id", S),
            ("depot_id", S),
            ("demand_class", S),
            ("service_level", D),
            ("lead_time_days", D),
            ("avg_daily_demand", D),
            ("demand_std_lead_time", D),
            ("safety_stock", D),
            ("reorder_point", D),
            ("order_up_to", D),
            ("on_hand", D),
            ("on_order", D),
            ("suggested_order_qty", D),
            ("unit_cost", D),
        ]
    ),
    "fct_stock_alerts": pa.schema(
        [
            ("alert_id", S),
            ("alert_date", DT),
            ("item_id", S),
            ("depot_id", S),
            ("severity", S),
            ("on_hand", D),
            ("on_order", D),
            ("projected_position", D),
            ("reorder_point", D),
            ("safety_stock", D),
            ("suggested_order_qty", D),
            ("days_to_stockout", pa.int32()),
            ("message", S),
        ]
    ),
}


def forecast_rows(forecast_date: date = RUN_DATE, *, level: float = 5.0, history: int = 60,
                  horizon: int = 14) -> list[dict[str, Any]]:  # fmt: skip
    """One run's horizon, plus past runs' one-day-ahead points with known actuals."""
    rows = []
    for n, item in enumerate(ITEMS):
        for depot in DEPOTS:
            base = level + n
            for h in range(1, horizon + 1):
                rows.append(_forecast(forecast_date, item, depot, h, base, None))
            for back in range(1, history + 1):
                run = forecast_date - timedelta(days=back)
                rows.append(_forecast(run, item, depot, 1, base, base + (back % 3) - 1))
    return rows


def _forecast(run: date, item: str, depot: str, h: int, yhat: float,
              actual: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "forecast_date": run, "item_id": item, "depot_id": depot,
        "target_date": run + timedelta(days=h), "horizon_day": h,
        "demand_class": "smooth" if item != "ITM003" else "lumpy", "yhat": yhat,
        "yhat_lo_80": yhat * 0.8, "yhat_hi_80": yhat * 1.2, "yhat_lo_95": yhat * 0.6,
        "yhat_hi_95": yhat * 1.4, "model_version": "ets-1",
        "actual_qty": actual, "abs_error": None if actual is None else abs(actual - yhat),
    }  # fmt: skip


def reorder_rows(as_of: date = RUN_DATE, on_hand: float = 20.0) -> list[dict[str, Any]]:
    return [
        {"as_of_date": as_of, "item_id": item, "depot_id": depot, "demand_class": "smooth",
         "service_level": 0.95, "lead_time_days": 7.0, "avg_daily_demand": 2.0,
         "demand_std_lead_time": 3.0, "safety_stock": 5.0, "reorder_point": 10.0,
         "order_up_to": 30.0, "on_hand": on_hand, "on_order": 0.0,
         "suggested_order_qty": max(0.0, 30.0 - on_hand) if on_hand <= 10 else 0.0,
         "unit_cost": 12.5}
        for item in ITEMS for depot in DEPOTS
    ]  # fmt: skip


def alert_rows(alert_date: date = RUN_DATE) -> list[dict[str, Any]]:
    return [
        {"alert_id": f"A-{alert_date:%Y%m%d}-{item}-{depot}", "alert_date": alert_date,
         "item_id": item, "depot_id": depot, "severity": sev, "on_hand": 3.0, "on_order": 0.0,
         "projected_position": 3.0, "reorder_point": 10.0, "safety_stock": 5.0,
         "suggested_order_qty": 27.0, "days_to_stockout": 2 if sev == "critical" else None,
         "message": f"{item} at {depot} below its reorder point"}
        for item, depot, sev in [("ITM001", "DEP01", "critical"), ("ITM002", "DEP02", "warning")]
    ]  # fmt: skip


def build_gold(settings: Settings, *, forecasts: bool = True, version: str | None = "v1") -> None:
    """The spine's marts, and (``forecasts``) the forecast marts of issue 4's contract."""
    write_gold(settings, "dim_items", [
        {"item_id": item, "item_name": f"Part {item}", "category": "radio" if n else "antenna",
         "family": "f", "technology": "4G", "supplier_id": "SUP1", "supplier_name": "Acme",
         "unit_cost": 12.5, "lead_time_days": 7, "min_order_qty": 1, "min_stock": 2,
         "max_stock": 40}
        for n, item in enumerate(ITEMS)
    ], SCHEMAS["dim_items"])  # fmt: skip
    write_gold(settings, "dim_depots", [
        {"depot_id": d, "depot_name": f"Depot {d}", "municipality": "Salvador", "state": "BA",
         "latitude": -12.9, "longitude": -38.5} for d in DEPOTS
    ], SCHEMAS["dim_depots"])  # fmt: skip
    write_gold(settings, "dim_towers", [
        {"tower_id": f"TWR{n}", "depot_id": DEPOTS[n % 2], "municipality": "Salvador",
         "state": "BA", "sla_tier": "gold", "technology": "4G", "latitude": -12.9,
         "longitude": -38.5, "commissioned_date": date(2020, 1, 1)} for n in range(4)
    ], SCHEMAS["dim_towers"])  # fmt: skip
    write_gold(settings, "fct_inventory_snapshot", [
        {"item_id": item, "depot_id": depot, "snapshot_date": day, "on_hand": 20, "on_order": 0,
         "unit_cost": 12.5, "stock_value": 250.0}
        for item in ITEMS for depot in DEPOTS for day in (date(2026, 9, 30), RUN_DATE)
    ], SCHEMAS["fct_inventory_snapshot"])  # fmt: skip
    if forecasts:
        write_gold(settings, "fct_forecasts", forecast_rows(), SCHEMAS["fct_forecasts"])
        write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
        write_gold(settings, "fct_stock_alerts", alert_rows(), SCHEMAS["fct_stock_alerts"])
    if version:
        write_gold_version(settings, version)
