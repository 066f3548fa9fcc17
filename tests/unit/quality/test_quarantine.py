from datetime import date, datetime

import pyarrow as pa
import pytest

from backend.ingest.base import bronze_uri
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
