"""Declared contracts of bronze tables: each rule is a row-level check with a reason.

Rules are code, never user input; each compiles to a DuckDB predicate that is true for
a row that *breaks* the rule, so one query per entity finds every failing row. The
predicate reads the row as ``b``; besides the row's columns it may read:

- ``run_params``: one row, ``window_start`` and ``run_date`` (the window's last day, D);
- ``ref_<entity>``: the keys of a referenced entity's bronze rows that are *not*
  quarantined, so a child never passes on a parent that staging leaves out;
- the shared CTEs a rule ``needs`` (``SHARED_CTES``), such as ``quantity_reference``.

Rules beyond the obvious ones:

- ``not_in_future:<date>``: a movement or snapshot dated after the run date D is a typing
  error (a year typed wrong) until shown otherwise; it is quarantined, not kept silently.
- ``typed_values``: the extract could not fit a value to its column's type (text in an
  integer column, invalid UTF-8); it names them in ``_type_errors``. Checked for every
  entity whose bronze has that column, whatever its contract lists.
- ``quantity_outlier`` (stock movements): a quantity far beyond what the item has seen, a
  typed or scanned error (10^12 units) that would otherwise feed demand, forecasts and
  reorder points, is held for review. The rule: ``|quantity| > QUANTITY_OUTLIER_FLOOR``
  and ``|quantity| > QUANTITY_OUTLIER_FACTOR x reference``, where the reference is, for
  the same item and movement type (all depots: a pair alone has little history), the
  largest |quantity| in the bronze partitions before the window that were not
  quarantined (what the item has seen), or, for an item with no history (a first full
  load, a new item), the lower median |quantity| of the window's rows (a median is not
  moved by a minority of outliers). A held row stays in quarantine; to release it, fix
  the ERP row (a new ``updated_at`` loads it again) or raise the constants here.
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
    broken_when: str  # DuckDB predicate over the row ``b``, true when the rule is broken
    detail: str | None = None  # DuckDB text expression over ``b`` appended to the reason
    needs: tuple[str, ...] = ()  # names of SHARED_CTES the predicate reads
    # A predicate over the row alone that every breaking row meets: when no row of the
    # window meets it, the rule is skipped (and its shared CTEs are never computed).
    only_if_any: str | None = None


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
    """The value must exist as ``key`` in the same source's ``entity`` (any batch), in a
    row that is not itself quarantined."""
    return Rule(
        f"relationship:{column}->{entity}.{key}",
        f"{column} not found in {entity} (or only in quarantined rows)",
        f"{quote_name(column)} is not null and {quote_name(column)} not in "
        f"(select {quote_name(key)} from ref_{entity})",
    )


def not_in_future(column: str) -> Rule:
    """A date after the run date D."""
    return Rule(
        f"not_in_future:{column}",
        f"{column} is after the run date",
        f"{quote_name(column)} > (select run_date from run_params)",
        detail=f"cast(b.{quote_name(column)} as varchar)",
    )


TYPED_VALUES = Rule(
    "typed_values",
    "a value does not fit its column's type",
    '"_type_errors" is not null',
    detail='b."_type_errors"',
)

QUANTITY_OUTLIER_FACTOR = 10
QUANTITY_OUTLIER_FLOOR = 1000

_SMALL = QUANTITY_OUTLIER_FLOOR / QUANTITY_OUTLIER_FACTOR

SHARED_CTES: dict[str, str] = {
    # Per item and movement type: the largest |quantity| seen before the window in rows
    # that were not quarantined, and the lower median |quantity| of the window's rows.
    # A history row at or under FLOOR / FACTOR cannot decide the outcome (FACTOR x it is
    # under the floor), so only larger ones are looked up in quarantine. Only the items
    # with a window row over the floor can break the rule: only their history is read.
    "quantity_reference": f"""
        candidate_items as (
            select distinct item_id from bronze_rows
            where _ingest_date between (select window_start from run_params)
                and (select run_date from run_params)
                and abs(quantity) > {QUANTITY_OUTLIER_FLOOR}
        ),
        quantity_reference as (
            select item_id, movement_type, max(seen_max) as seen_max, max(typical) as typical
            from (
                select h.item_id, h.movement_type, max(abs(h.quantity)) as seen_max,
                    null::double as typical
                from bronze_rows h
                where h._ingest_date < (select window_start from run_params)
                    and h.item_id in (select item_id from candidate_items)
                    and abs(h.quantity) <= {_SMALL}
                group by all
                union all
                select h.item_id, h.movement_type, max(abs(h.quantity)), null
                from bronze_rows h
                where h._ingest_date < (select window_start from run_params)
                    and h.item_id in (select item_id from candidate_items)
                    and abs(h.quantity) > {_SMALL}
                    and not exists (select 1 from quarantined q
                        where q.entity = 'stock_movements' and q._row_id = h._row_id)
                group by all
                union all
                select w.item_id, w.movement_type, null, quantile_disc(abs(w.quantity), 0.5)
                from bronze_rows w
                where w._ingest_date between (select window_start from run_params)
                    and (select run_date from run_params)
                    and w.item_id in (select item_id from candidate_items)
                group by all
            ) as parts
            group by item_id, movement_type
        )""",
}

_QUANTITY_REFERENCE = (
    "(select coalesce(r.seen_max, r.typical) "
    "from quantity_reference r "
    "where r.item_id = b.item_id and r.movement_type = b.movement_type)"
)


def quantity_outlier() -> Rule:
    return Rule(
        "quantity_outlier",
        f"quantity more than {QUANTITY_OUTLIER_FACTOR} x the largest the item has seen "
        f"(and over {QUANTITY_OUTLIER_FLOOR}): held for review",
        f"abs(b.quantity) > {QUANTITY_OUTLIER_FLOOR} and abs(b.quantity) > "
        f"{QUANTITY_OUTLIER_FACTOR} * coalesce({_QUANTITY_REFERENCE}, 0)",
        detail=(
            f"'quantity ' || b.quantity || ', reference ' "
            f"|| printf('%g', coalesce({_QUANTITY_REFERENCE}, 0))"
        ),
        needs=("quantity_reference",),
        # A daily run rarely has a quantity over the floor: then no history is read.
        only_if_any=f"abs(quantity) > {QUANTITY_OUTLIER_FLOOR}",
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
            not_in_future("movement_date"),
            quantity_outlier(),
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
            not_in_future("snapshot_date"),
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
