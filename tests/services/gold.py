"""Small gold Delta tables of the contract shape, for the API and stream tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
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
            ("category_service_level", D),
            ("service_level_source", S),
            ("service_level_reason", S),
            ("towers_exposed", pa.int32()),
            ("platinum_towers", pa.int32()),
            ("sla_tier_max", S),
            ("order_cycle_days", D),
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
            ("value_weight", D),
            ("applied_service_level", D),
            ("applied_z_score", D),
            ("lead_time_model", S),
        ]
    ),
    "fct_daily_demand": pa.schema(
        [
            ("daily_demand_key", INT),
            ("item_id", S),
            ("depot_id", S),
            ("demand_date", DT),
            ("demand_qty", INT),
            ("movement_count", INT),
            ("receipts_qty", INT),
            ("adjustments_qty", INT),
        ]
    ),
    "fct_actions": pa.schema(
        [
            ("action_id", S),
            ("as_of_date", DT),
            ("item_id", S),
            ("item_name", S),
            ("category", S),
            ("depot_id", S),
            ("supplier_id", S),
            ("supplier_name", S),
            ("action", S),
            ("quantity", D),
            ("severity", S),
            ("alert_id", S),
            ("reason_code", S),
            ("reason", S),
            ("days_to_stockout", pa.int32()),
            ("stockout_date", DT),
            ("on_hand", D),
            ("on_order", D),
            ("approved_on_order", D),
            ("reorder_point", D),
            ("safety_stock", D),
            ("order_up_to", D),
            ("min_order_qty", D),
            ("unit_cost", D),
            ("expedite_po_id", S),
            ("expedite_expected_date", DT),
            ("transfer_from_depot_id", S),
            ("towers_exposed", pa.int32()),
            ("sla_tiers", S),
            ("worst_sla_tier", S),
            ("platinum_towers", pa.int32()),
            ("sla_tier_max", S),
            ("value_at_risk", D),
            ("order_value", D),
            ("priority", D),
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
            ("platinum_towers", pa.int32()),
            ("sla_tier_max", S),
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
         "service_level": 0.95, "category_service_level": 0.95, "service_level_source": "category",
         "service_level_reason": "category power floor (no tower served in the last 365 days)",
         "towers_exposed": 0, "platinum_towers": 0, "sla_tier_max": None, "order_cycle_days": 30.0,
         "lead_time_days": 7.0, "avg_daily_demand": 2.0,
         "demand_std_lead_time": 3.0, "safety_stock": 5.0, "reorder_point": 10.0,
         "order_up_to": 30.0, "on_hand": on_hand, "on_order": 0.0,
         "suggested_order_qty": max(0.0, 30.0 - on_hand) if on_hand <= 10 else 0.0,
         "unit_cost": 12.5, "value_weight": 1.0, "applied_service_level": 0.95,
         "applied_z_score": 1.644854, "lead_time_model": "normal"}
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


DEMAND_START = date(2026, 8, 1)
# ITM003's October: it runs out at the end of Oct 7, opens Oct 8 and 9 empty (two stock-out
# days per depot), then the Oct 10 receipt refills it.
ITM003_OCTOBER = [3] * 6 + [2, 0, 0] + [3] * 22


def demand_qty(item: str, day: date) -> int:
    if item == "ITM003" and day.month == 10:
        return ITM003_OCTOBER[day.day - 1]
    return 1 + day.toordinal() % 2


def demand_rows(start: date = DEMAND_START, end: date = RUN_DATE) -> list[dict[str, Any]]:
    """Daily demand from ``start`` to the run date. October reconciles with the inventory
    snapshots (20 on hand on Sep 30 and Oct 31): the Oct 10 receipt brings exactly the
    month's issues."""
    rows = []
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for item in ITEMS:
        october = sum(demand_qty(item, d) for d in days if d.month == 10)
        for depot in DEPOTS:
            for day in days:
                qty = demand_qty(item, day)
                receipts = (october if day.month == 10 else 40) if day.day == 10 else 0
                rows.append({
                    "daily_demand_key": len(rows), "item_id": item, "depot_id": depot,
                    "demand_date": day, "demand_qty": qty, "movement_count": int(qty > 0),
                    "receipts_qty": receipts, "adjustments_qty": 0,
                })  # fmt: skip
    return rows


def _action(item: str, depot: str, action: str, **values: Any) -> dict[str, Any]:
    n = ITEMS.index(item)
    row = dict.fromkeys(SCHEMAS["fct_actions"].names)
    row.update(
        action_id=f"ACT-{item}-{depot}", as_of_date=RUN_DATE, item_id=item,
        item_name=f"Part {item}", category="radio" if n else "antenna", depot_id=depot,
        supplier_id="SUP1", supplier_name="Acme", action=action, reason_code="rule",
        reason=f"{action} {item} at {depot}", on_hand=3.0, on_order=0.0, approved_on_order=0.0,
        reorder_point=10.0, safety_stock=5.0, order_up_to=30.0, min_order_qty=1.0,
        unit_cost=12.5,
    )  # fmt: skip
    row.update(values)
    return row


def action_rows() -> list[dict[str, Any]]:
    """Five lines of the run date's work list and one of the day before (not the latest)."""
    return [
        _action("ITM001", "DEP01", "order", quantity=30.0, severity="critical",
                alert_id="AL-1", days_to_stockout=2, stockout_date=date(2026, 11, 2),
                towers_exposed=2, sla_tiers="gold,silver", worst_sla_tier="gold",
                value_at_risk=250.0, order_value=375.0, priority=0.9),
        _action("ITM002", "DEP02", "expedite", quantity=20.0, severity="warning",
                alert_id="AL-2", days_to_stockout=5, stockout_date=date(2026, 11, 5),
                expedite_po_id="PO-7", expedite_expected_date=date(2026, 11, 9),
                towers_exposed=1, sla_tiers="platinum", worst_sla_tier="platinum",
                value_at_risk=100.0, order_value=250.0, priority=0.5),
        _action("ITM003", "DEP01", "transfer", quantity=8.0, severity="critical",
                alert_id="AL-3", days_to_stockout=6, stockout_date=date(2026, 11, 6),
                transfer_from_depot_id="DEP02", towers_exposed=1, sla_tiers="silver",
                worst_sla_tier="silver", value_at_risk=62.5, order_value=100.0, priority=0.7),
        _action("ITM001", "DEP02", "watch", priority=0.1),
        _action("ITM002", "DEP01", "watch", severity="warning", alert_id="AL-4",
                days_to_stockout=12, stockout_date=date(2026, 11, 12), value_at_risk=0.0,
                priority=None),
        _action("ITM003", "DEP02", "order", as_of_date=RUN_DATE - timedelta(days=1),
                action_id="ACT-old", quantity=10.0, priority=1.0),
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
    write_gold(settings, "fct_daily_demand", demand_rows(), SCHEMAS["fct_daily_demand"])
    if forecasts:
        write_gold(settings, "fct_actions", action_rows(), SCHEMAS["fct_actions"])
        write_gold(settings, "fct_forecasts", forecast_rows(), SCHEMAS["fct_forecasts"])
        write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
        write_gold(settings, "fct_stock_alerts", alert_rows(), SCHEMAS["fct_stock_alerts"])
    if version:
        write_gold_version(settings, version)


# --- simulated count series with known distributions (the /series band coverage test) ---


def count_distributions(series: int, seed: int) -> list[Any]:
    """Frozen scipy distributions of daily demand: half Poisson, half negative binomial,
    means spread log-normally from about 0.2 to 20 a day, dispersion k from 0.5 to 10."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    means = np.clip(np.exp(rng.normal(np.log(1.5), 1.0, series)), 0.2, 20.0)
    dispersion = np.clip(np.exp(rng.normal(np.log(2.0), 0.8, series)), 0.5, 10.0)
    return [
        stats.poisson(m) if n % 2 == 0 else stats.nbinom(k, k / (k + m))
        for n, (m, k) in enumerate(zip(means, dispersion, strict=True))
    ]


def true_bands(dists: list[Any]) -> dict[str, np.ndarray]:
    """Each distribution's mean and its exact 80% and 95% central quantiles."""
    q = np.array([d.ppf([0.1, 0.9, 0.025, 0.975]) for d in dists], dtype=float)
    return {
        "yhat": np.array([d.mean() for d in dists], dtype=float),
        "yhat_lo_80": q[:, 0], "yhat_hi_80": q[:, 1], "yhat_lo_95": q[:, 2], "yhat_hi_95": q[:, 3],
    }  # fmt: skip


def simulated_forecasts(
    depot: str, series: int, horizon: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]:
    """fct_forecasts rows of ``series`` items at ``depot`` (one run, ``horizon`` days, the
    true quantiles as bands), one fct_daily_demand row per series (so the series exist),
    and the depot's total demand per target day, drawn independently of the bands."""
    dists = count_distributions(series, seed)
    bands = true_bands(dists)
    rng = np.random.default_rng(seed + 1)
    draws = np.stack([d.rvs(size=horizon, random_state=rng) for d in dists])  # series x days
    forecasts, demand = [], []
    for s in range(series):
        item = f"SIM{s:04d}"
        demand.append({"daily_demand_key": s, "item_id": item, "depot_id": depot,
                       "demand_date": RUN_DATE, "demand_qty": 0, "movement_count": 0,
                       "receipts_qty": 0, "adjustments_qty": 0})  # fmt: skip
        point = {k: float(v[s]) for k, v in bands.items()}
        for h in range(1, horizon + 1):
            forecasts.append({
                "forecast_date": RUN_DATE, "item_id": item, "depot_id": depot,
                "target_date": RUN_DATE + timedelta(days=h), "horizon_day": h,
                "demand_class": "smooth", "model_version": "truth", "actual_qty": None,
                "abs_error": None, **point,
            })  # fmt: skip
    return forecasts, demand, draws.sum(axis=0)
