"""Declared contracts of bronze tables: each rule is a row-level check with a reason.

Rules are code, never user input; each compiles to a DuckDB predicate that is true for
a row that *breaks* the rule, so one query per entity finds every failing row.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.lake.sql import quote_name


def _literal(value: str | float | int) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    broken_when: str  # DuckDB predicate over the row, true when the rule is broken


def not_null(column: str) -> Rule:
    return Rule(f"not_null:{column}", f"{column} is missing", f"{quote_name(column)} is null")


def accepted_values(column: str, values: tuple[str, ...]) -> Rule:
    listed = ", ".join(_literal(v) for v in values)
    return Rule(
        f"accepted_values:{column}",
        f"{column} is not one of {', '.join(values)}",
        f"{quote_name(column)} is not null and {quote_name(column)} not in ({listed})",
    )


def in_range(column: str, low: float | None = None, high: float | None = None) -> Rule:
    checks = []
    if low is not None:
        checks.append(f"{quote_name(column)} < {_literal(low)}")
    if high is not None:
        checks.append(f"{quote_name(column)} > {_literal(high)}")
    bounds = f"[{'' if low is None else low}, {'' if high is None else high}]"
    return Rule(f"range:{column}", f"{column} outside {bounds}", " or ".join(checks))


def expression(name: str, reason: str, broken_when: str) -> Rule:
    return Rule(name, reason, broken_when)


def references(column: str, entity: str, key: str) -> Rule:
    """The value must exist as ``key`` in the same source's ``entity`` (any batch)."""
    return Rule(
        f"relationship:{column}->{entity}.{key}",
        f"{column} not found in {entity}",
        f"{quote_name(column)} is not null and {quote_name(column)} not in "
        f"(select {quote_name(key)} from ref_{entity})",
    )


def references_of(rules: tuple[Rule, ...]) -> set[tuple[str, str]]:
    """The (entity, key) pairs that the rules' relationship checks look up."""
    pairs = (r.name.split("->", 1)[1].split(".", 1) for r in rules if "->" in r.name)
    return {(entity, key) for entity, key in pairs}


BAHIA_LAT = (-18.5, -8.5)
BAHIA_LON = (-46.7, -37.3)

CONTRACTS: dict[str, dict[str, tuple[Rule, ...]]] = {
    "erp": {
        "suppliers": (
            not_null("supplier_id"),
            not_null("updated_at"),
            in_range("lead_time_mean_days", 0, 365),
            in_range("lead_time_std_days", 0, 365),
        ),
        "depots": (
            not_null("depot_id"),
            not_null("updated_at"),
            in_range("lat", *BAHIA_LAT),
            in_range("lon", *BAHIA_LON),
        ),
        "items": (
            not_null("item_id"),
            not_null("updated_at"),
            accepted_values("technology", ("4G", "5G", "common")),
            in_range("unit_cost", 0),
            in_range("lead_time_days", 0, 365),
            in_range("min_order_qty", 1),
            expression(
                "min_stock_le_max_stock",
                "min_stock is greater than max_stock",
                '"min_stock" > "max_stock"',
            ),
            references("supplier_id", "suppliers", "supplier_id"),
        ),
        "towers": (
            not_null("tower_id"),
            not_null("depot_id"),
            not_null("updated_at"),
            accepted_values("sla_tier", ("platinum", "gold", "silver")),
            accepted_values("technology", ("4G", "5G")),
            in_range("lat", *BAHIA_LAT),
            in_range("lon", *BAHIA_LON),
            references("depot_id", "depots", "depot_id"),
        ),
        "stock_movements": (
            not_null("movement_id"),
            not_null("item_id"),
            not_null("depot_id"),
            not_null("movement_date"),
            not_null("quantity"),
            not_null("updated_at"),
            accepted_values("movement_type", ("consumption", "receipt", "adjustment")),
            expression(
                "positive_quantity",
                "consumption or receipt with a quantity that is not positive",
                "\"movement_type\" in ('consumption', 'receipt') and \"quantity\" <= 0",
            ),
            references("item_id", "items", "item_id"),
            references("depot_id", "depots", "depot_id"),
        ),
        "inventory_snapshots": (
            not_null("item_id"),
            not_null("depot_id"),
            not_null("snapshot_date"),
            not_null("updated_at"),
            in_range("on_hand", 0),
            in_range("on_order", 0),
            references("item_id", "items", "item_id"),
        ),
        "purchase_orders": (
            not_null("po_id"),
            not_null("item_id"),
            not_null("depot_id"),
            not_null("quantity"),
            not_null("expected_date"),
            not_null("status"),
            not_null("updated_at"),
            accepted_values("status", ("open", "received", "cancelled")),
            in_range("quantity", 1),
            references("item_id", "items", "item_id"),
            references("depot_id", "depots", "depot_id"),
        ),
    },
    # Lines of workbench orders (backend/ingest/appdb_orders.py); items and depots are
    # the ERP's, checked where staging joins them.
    "appdb": {
        "order_lines": (
            not_null("line_id"),
            not_null("order_id"),
            not_null("item_id"),
            not_null("depot_id"),
            not_null("quantity"),
            in_range("quantity", 1),
            accepted_values("order_status", ("approved", "sent", "cancelled")),
        ),
    },
}
