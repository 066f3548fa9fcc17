"""One glossary for the API's fields: a description and an example per field name.

The same column (``item_id``, ``on_hand``, ``reorder_point``) appears in many responses;
documenting it once here keeps every response model short and the schema consistent.
:func:`document_fields` fills in, in the generated OpenAPI schema, what a model did not say
itself (a model's own ``Field(description=..., examples=...)`` always wins); the schema test
fails when a response field has neither, so a new field cannot ship undocumented.
"""

from __future__ import annotations

from typing import Any

GLOSSARY: dict[str, tuple[str, Any]] = {
    # ids and names
    "item_id": ("Spare-part id (the ERP's item code).", "ITM-00042"),
    "item_name": ("Spare-part name.", "Rectifier module 48V 3kW"),
    "depot_id": ("Depot id.", "DEP-SSA"),
    "depot_name": ("Depot name.", "Depósito Salvador"),
    "tower_id": ("Telecom tower id.", "TWR-0107"),
    "supplier_id": ("Supplier id.", "SUP-007"),
    "supplier_name": ("Supplier name.", "Energia Bahia Ltda"),
    "category": ("Item category (drives the default service level).", "power"),
    "family": ("Item family within its category.", "rectifier"),
    "technology": ("Radio technology the item or tower serves.", "4G"),
    "municipality": ("Municipality.", "Salvador"),
    "state": ("Brazilian state (UF).", "BA"),
    "latitude": ("Latitude, decimal degrees (WGS84).", -12.9711),
    "longitude": ("Longitude, decimal degrees (WGS84).", -38.5108),
    "sla_tier": ("SLA tier of the tower: platinum, gold or silver.", "platinum"),
    "commissioned_date": ("Date the tower entered service.", "2019-03-14"),
    # item master
    "unit_cost": ("Unit cost in BRL (R$).", 1234.56),
    "lead_time_days": ("Supplier lead time in days.", 14),
    "min_order_qty": ("Minimum order quantity (orders are multiples of it).", 5),
    "min_stock": ("ERP minimum stock (the legacy min/max policy).", 2),
    "max_stock": ("ERP maximum stock (the legacy min/max policy).", 10),
    # positions and policy
    "as_of_date": ("Run date D the row was computed for.", "2026-10-31"),
    "snapshot_date": ("Date of the stock snapshot.", "2026-10-31"),
    "on_hand": ("Units on hand in the depot.", 3),
    "on_order": ("Units on open purchase orders.", 10),
    "stock_value": ("On hand x unit cost, in BRL.", 3703.68),
    "demand_class": (
        "Demand class (Syntetos-Boylan): smooth, erratic, intermittent or lumpy.",
        "intermittent",
    ),
    "service_level": ("Target cycle service level (probability of no stockout).", 0.95),
    "avg_daily_demand": ("Mean forecast demand per day over the lead time.", 0.42),
    "demand_std_lead_time": ("Standard deviation of demand over the lead time (units).", 2.1),
    "safety_stock": ("Safety stock in units.", 3.4),
    "reorder_point": ("Reorder point in units: order when the position falls to it.", 9.3),
    "order_up_to": ("Order-up-to level in units.", 21.5),
    "suggested_order_qty": ("Units to order now (a multiple of the MOQ; 0: none).", 20),
    "projected_position": ("On hand + on order - forecast demand over the lead time.", -1.5),
    "days_to_stockout": ("Days until projected stock reaches zero (null: not in the horizon).", 4),
    # alerts
    "alert_id": ("Alert id: stable for the whole episode of the same pair.", "581947362510293"),
    "alert_date": ("Run date D that raised the alert.", "2026-10-31"),
    "severity": (
        "critical: stockout within the lead time; warning: below the reorder point.",
        "critical",
    ),
    "message": (
        "The alert in one sentence.",
        "critical: item ITM-00042 at depot DEP-SSA runs out in 4 days",
    ),
    "source": ("daily: the pipeline's fct_stock_alerts; stream: `nova stream`.", "daily"),
    # forecasts
    "forecast_date": ("Forecast run date D.", "2026-10-31"),
    "target_date": ("Date the forecast is for.", "2026-11-07"),
    "horizon_day": ("Days ahead of the forecast date (1 = D + 1).", 7),
    "yhat": ("Point forecast (units per day).", 0.42),
    "yhat_lo_80": ("Lower bound of the 80% prediction interval.", 0.0),
    "yhat_hi_80": ("Upper bound of the 80% prediction interval.", 1.0),
    "yhat_lo_95": ("Lower bound of the 95% prediction interval.", 0.0),
    "yhat_hi_95": ("Upper bound of the 95% prediction interval.", 2.0),
    "model_version": ("Registered model version that made the forecast.", "nova-forecaster/7"),
    "actual_qty": ("Actual demand once known (null before).", 1.0),
    "abs_error": ("|forecast - actual| (null before the actual is known).", 0.58),
    "forecast_qty": ("Forecast units summed over the period.", 12.6),
    "forecast_qty_lo_95": ("Lower 95% bound of the summed forecast.", 6.0),
    "forecast_qty_hi_95": ("Upper 95% bound of the summed forecast.", 21.0),
    "horizon_days": ("Days ahead the run forecasts.", 90),
    "accuracy": ("Accuracy over trailing windows of target dates.", []),
    "window": ("Trailing window of target dates.", "30d"),
    "days": ("Length of the window in days.", 30),
    "points": ("Forecast points with a known actual.", 1840),
    "mae": ("Mean absolute error per point.", 0.61),
    "wape": ("Sum of absolute errors over the sum of actuals.", 0.48),
    "bias": ("(forecast - actual) / actual: negative means under-forecast.", -0.04),
    "group": ("Value of the grouping column.", "intermittent"),
    "group_by": ("Column the rows are grouped by.", "demand_class"),
    "start_date": ("First date of the range, inclusive.", "2026-10-01"),
    "end_date": ("Last date of the range, inclusive.", "2026-10-31"),
    # paging
    "data": ("The rows of this page.", []),
    "count": ("Rows matching the filters, over all pages.", 1234),
    "limit": ("Rows per page asked for.", 100),
    "offset": ("Rows skipped.", 0),
    # keys, people, system
    "key_id": ("API key id (the key itself is shown once, at creation).", "3f9a1c2e"),
    "role": ("Role: viewer reads, planner acts (ack, orders), admin manages.", "planner"),
    "name": ("Name given at creation.", "erp-sync service"),
    "created_at": ("When it was created (UTC).", "2026-10-31T08:15:00Z"),
    "revoked_at": ("When it was revoked (UTC); null while live.", None),
    "status": ("Status.", "ok"),
    "detail": ("What went wrong and what to do.", "no item 'ITM-404'"),
    "dependencies": ("State of each dependency: lake, redis, kafka.", {"redis": {"status": "ok"}}),
    "gold_version": ("The published gold version the API serves.", "run-2026-10-31-0a1b2c"),
    "gold_published_at": ("When that version was published (UTC).", "2026-10-31T06:12:09Z"),
    "email": ("The person's email (their sign-in name).", "ana@novacorrente.com.br"),
    "password": (
        "The password (sent only to sign in; never stored or logged).",
        "correct horse battery",
    ),
    "csrf_token": (
        "Send it back in X-CSRF-Token on every write made with the session cookie.",
        "k3Jd9aQ0...",
    ),
    "depots": (
        "Depot scope: the depots this person sees; null: every depot.",
        ["DEP-SSA", "DEP-FSA"],
    ),
    "expires_at": ("When the session ends at the latest (UTC).", "2026-10-31T20:15:00Z"),
    "kind": ("How the caller authenticated: session (a person) or key (a service).", "session"),
    "disabled_at": ("When the account was disabled (UTC); null while active.", None),
    "errors": (
        "Validation errors (422 only): where, and why.",
        [{"loc": ["query", "limit"], "msg": "must be >= 1"}],
    ),
    "incident": ("500 only: the id to quote to the operators.", "9c2f0e41ab7d"),
}


def document_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """Fill in missing descriptions and examples of component properties from the glossary."""
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, prop in component.get("properties", {}).items():
            known = GLOSSARY.get(name)
            if known is None:
                continue
            description, example = known
            prop.setdefault("description", description)
            if "examples" not in prop and "example" not in prop:
                prop["examples"] = [example]
    return schema


def _nested(prop: dict[str, Any]) -> bool:
    """A field holding other components: their own fields carry the examples."""
    text = str({k: v for k, v in prop.items() if k not in ("description", "title")})
    return "#/components/schemas/" in text


def undocumented(schema: dict[str, Any]) -> list[str]:
    """``Component.field`` for every property still lacking a description or an example
    (fields holding other components need only a description)."""
    missing = []
    for cname, component in schema.get("components", {}).get("schemas", {}).items():
        for name, prop in component.get("properties", {}).items():
            has_example = "examples" in prop or "example" in prop or _nested(prop)
            if "description" not in prop or not has_example:
                missing.append(f"{cname}.{name}")
    return missing
