from datetime import date, datetime

import pyarrow as pa
import pytest

from backend.ingest.base import (
    EntityExtract,
    ExtractWindow,
    bronze_uri,
    ensure_bronze_tables,
    get_source,
    write_bronze,
)
from backend.lake import delta
from backend.quality import contracts
from backend.quality.quarantine import failing_rows, quarantine_uri, validate_window

DAY = date(2024, 3, 1)


def _audit(n: int) -> dict[str, object]:
    return {
        "_source": ["erp"] * n,
        "_batch_id": ["b1"] * n,
        "_ingested_at": pa.array([datetime(2024, 3, 2)] * n, pa.timestamp("us", tz="UTC")),
        "_row_id": [f"r{i}" for i in range(n)],
        "_ingest_date": [DAY] * n,
    }


def _movements() -> pa.Table:
    return pa.table(
        {
            "movement_id": [1, 2, 3, 4],
            "item_id": ["ITM-1", "ITM-1", "ITM-404", "ITM-1"],
            "depot_id": ["DEP-A"] * 4,
            "tower_id": ["T1", None, "T1", "T1"],
            "quantity": [2, 5, 1, 0],
            "movement_type": ["consumption", "receipt", "consumption", "consumption"],
            "movement_date": [DAY] * 4,
            "updated_at": [datetime(2024, 3, 1, 10)] * 4,
            **_audit(4),
        }
    )


def _write_reference(settings, entity: str, key: str, values: list[str]) -> None:
    table = pa.table({key: values, **_audit(len(values))})
    delta.overwrite_partitions(bronze_uri("erp", entity, settings), table, DAY, DAY)


def test_each_broken_rule_gives_a_row_with_its_reason(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])

    failed = failing_rows("erp", "stock_movements", _movements(), DAY, DAY, settings).to_pylist()

    by_rule = {row["rule"]: row for row in failed}
    assert set(by_rule) == {"relationship:item_id->items.item_id", "positive_quantity"}
    assert by_rule["positive_quantity"]["_row_id"] == "r3"
    assert by_rule["relationship:item_id->items.item_id"]["_row_id"] == "r2"
    assert "ITM-404" in by_rule["relationship:item_id->items.item_id"]["record"]
    assert by_rule["positive_quantity"]["reason"].startswith("consumption or receipt")


def test_revalidating_a_window_replaces_its_quarantine(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    delta.overwrite_partitions(
        bronze_uri("erp", "stock_movements", settings), _movements(), DAY, DAY
    )

    first = validate_window("erp", ["stock_movements"], DAY, DAY, settings)
    second = validate_window("erp", ["stock_movements"], DAY, DAY, settings)

    assert first == second == {"stock_movements": 2}
    assert delta.read_table(quarantine_uri(settings)).num_rows == 2


def test_rules_refuse_identifiers_that_are_not_plain():
    with pytest.raises(ValueError):
        contracts.not_null('x"; drop table items; --')


# ---- issue 15 ---------------------------------------------------------------------------


def _items(ids: list[str], min_stock: list[int]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "item_id": ids,
            "supplier_id": pa.array([None] * n, pa.string()),
            "technology": ["4G"] * n,
            "unit_cost": [10.0] * n,
            "lead_time_days": [5] * n,
            "min_order_qty": [1] * n,
            "min_stock": min_stock,
            "max_stock": [10] * n,
            "updated_at": [datetime(2024, 3, 1, 9)] * n,
            **_audit(n),
        }
    )


def _movement_rows(quantities: list[int], days: list[date], item: str = "ITM-1") -> pa.Table:
    n = len(quantities)
    audit = _audit(n)
    audit["_ingest_date"] = days
    return pa.table(
        {
            "movement_id": list(range(1, n + 1)),
            "item_id": [item] * n,
            "depot_id": ["DEP-A"] * n,
            "tower_id": ["T1"] * n,
            "quantity": quantities,
            "movement_type": ["consumption"] * n,
            "movement_date": days,
            "updated_at": [datetime.combine(d, datetime.min.time()) for d in days],
            **audit,
        }
    )


@pytest.mark.reliability
def test_a_child_of_a_quarantined_parent_is_quarantined(settings):
    # ITM-2 exists in bronze, but its only row breaks a rule (min_stock > max_stock).
    delta.overwrite_partitions(
        bronze_uri("erp", "items", settings), _items(["ITM-1", "ITM-2"], [1, 50]), DAY, DAY
    )
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    movements = _movements().set_column(
        1, "item_id", pa.array(["ITM-1", "ITM-2", "ITM-1", "ITM-1"])
    )
    delta.overwrite_partitions(bronze_uri("erp", "stock_movements", settings), movements, DAY, DAY)

    validate_window("erp", ["items", "stock_movements"], DAY, DAY, settings)

    rows = delta.read_table(quarantine_uri(settings)).to_pylist()
    items = {(r["_row_id"], r["rule"]) for r in rows if r["entity"] == "items"}
    moves = {(r["_row_id"], r["rule"]) for r in rows if r["entity"] == "stock_movements"}
    assert items == {("r1", "min_stock_le_max_stock")}
    assert ("r1", "relationship:item_id->items.item_id") in moves
    assert not any(row_id == "r0" for row_id, _ in moves)


@pytest.mark.reliability
def test_a_date_after_the_run_date_is_quarantined_with_the_date(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    rows = _movement_rows([1, 1], [DAY, DAY]).set_column(
        6, "movement_date", pa.array([DAY, date(2031, 3, 1)], pa.date32())
    )

    failed = failing_rows("erp", "stock_movements", rows, DAY, DAY, settings).to_pylist()

    assert [(r["_row_id"], r["rule"], r["reason"]) for r in failed] == [
        ("r1", "not_in_future:movement_date", "movement_date is after the run date: 2031-03-01")
    ]


@pytest.mark.reliability
def test_an_absurd_quantity_is_held_against_what_the_item_has_seen(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    history = [date(2024, 2, d) for d in range(1, 21)]
    # Twenty days of history up to 300 units, then the window: 2,900 (under 10 x 300),
    # 3,100 (over 10 x 300 and the floor) and 10^12.
    quantities = [300, *([2] * 19), 2_900, 3_100, 10**12]
    rows = _movement_rows(quantities, [*history, DAY, DAY, DAY])

    failed = failing_rows("erp", "stock_movements", rows, DAY, DAY, settings).to_pylist()

    held = {r["_row_id"]: r["reason"] for r in failed if r["rule"] == "quantity_outlier"}
    assert set(held) == {"r21", "r22"}
    assert held["r22"].endswith("quantity 1000000000000, reference 300")
    assert contracts.QUANTITY_OUTLIER_FACTOR * 300 < 3_100


@pytest.mark.reliability
def test_without_history_the_median_is_the_reference_and_the_floor_holds(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    # A first load: no partition before the window. Median 2: only what passes the floor
    # (1,000) is held, a big but plausible 900 is not.
    rows = _movement_rows([2, 2, 3, 900, 10**12], [DAY] * 5)

    failed = failing_rows("erp", "stock_movements", rows, DAY, DAY, settings).to_pylist()

    assert [(r["_row_id"], r["rule"]) for r in failed] == [("r4", "quantity_outlier")]


@pytest.mark.reliability
def test_a_quarantined_outlier_in_history_does_not_raise_the_reference(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    before = date(2024, 2, 1)
    uri = bronze_uri("erp", "stock_movements", settings)
    delta.overwrite_partitions(uri, _movement_rows([2, 2, 10**12], [before] * 3), before, before)
    validate_window("erp", ["stock_movements"], before, before, settings)
    window = _movement_rows([5_000], [DAY])
    window = window.set_column(
        window.schema.get_field_index("_row_id"), "_row_id", pa.array(["w0"])
    )
    delta.overwrite_partitions(uri, window, DAY, DAY)

    validate_window("erp", ["stock_movements"], DAY, DAY, settings)

    rows = delta.read_table(quarantine_uri(settings)).to_pylist()
    assert {(r["_row_id"], r["rule"]) for r in rows} == {
        ("r2", "quantity_outlier"),
        ("w0", "quantity_outlier"),
    }


@pytest.mark.reliability
def test_a_value_the_extract_could_not_type_is_quarantined_with_it(settings):
    _write_reference(settings, "items", "item_id", ["ITM-1"])
    _write_reference(settings, "depots", "depot_id", ["DEP-A"])
    rows = _movement_rows([1, 1], [DAY, DAY]).append_column(
        "_type_errors", pa.array([None, "quantity: 'abc' is not a valid int64"], pa.string())
    )

    failed = failing_rows("erp", "stock_movements", rows, DAY, DAY, settings).to_pylist()

    assert [(r["_row_id"], r["rule"], r["reason"]) for r in failed] == [
        (
            "r1",
            "typed_values",
            "a value does not fit its column's type: quantity: 'abc' is not a valid int64",
        )
    ]


def _bacen_extract(values: list[str | None]) -> EntityExtract:
    n = len(values)
    rows = pa.table(
        {
            "series_code": ["433"] * n,
            "data": [f"{i + 1:02d}/03/2024" for i in range(n)],
            "valor": values,
        },
        schema=get_source("bacen").schemas["series"],
    )
    return EntityExtract("series", rows, pa.array([DAY] * n, pa.date32()))


def _quarantine(settings) -> list[dict]:
    rows = delta.read_table(quarantine_uri(settings), settings=settings).to_pylist()
    return sorted(rows, key=lambda r: (r["_row_id"], r["rule"]))


def test_the_tables_just_written_give_the_quarantine_bronze_gives(settings):
    source = get_source("bacen")
    ensure_bronze_tables(source, settings)
    window = ExtractWindow(DAY, DAY, "b1", settings)
    kept: dict[str, pa.Table] = {}
    write_bronze(source, window, [_bacen_extract(["1.5", "abc", None, "2000"])], keep=kept)

    read_back = validate_window("bacen", ["series"], DAY, DAY, settings)
    from_bronze = _quarantine(settings)
    handed = validate_window("bacen", ["series"], DAY, DAY, settings, written=kept)

    assert read_back == handed == {"series": 3}
    assert _quarantine(settings) == from_bronze
    assert {r["rule"] for r in from_bronze} == {
        "expect_column_values_to_not_be_null:valor",
        "parses_as_number:valor",
        "expect_column_values_to_be_between:valor__num",
    }


def test_a_handed_table_whose_columns_are_not_the_tables_is_not_used(settings):
    source = get_source("bacen")
    ensure_bronze_tables(source, settings)
    window = ExtractWindow(DAY, DAY, "b1", settings)
    kept: dict[str, pa.Table] = {}
    write_bronze(source, window, [_bacen_extract(["1.5", "abc"])], keep=kept)
    # a table without the failing row and with a column bronze lacks: never trusted
    stale = kept["series"].slice(0, 1).append_column("extra", pa.array(["x"]))

    counts = validate_window("bacen", ["series"], DAY, DAY, settings, written={"series": stale})

    assert counts == {"series": 1}
    assert [r["rule"] for r in _quarantine(settings)] == ["parses_as_number:valor"]
