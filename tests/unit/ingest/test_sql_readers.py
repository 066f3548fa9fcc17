"""conform: a value that does not fit its type is one row's fault, never the read's."""

from datetime import datetime

import pyarrow as pa
import pytest

from backend.ingest.sql_readers import TYPE_ERRORS, SchemaDriftError, conform

SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("quantity", pa.int64()),
        ("unit_cost", pa.float64()),
        ("updated_at", pa.timestamp("us")),
    ]
)


@pytest.mark.reliability
def test_text_in_a_number_column_and_invalid_utf8_become_null_and_named():
    raw = pa.table(
        {
            "item_id": pa.array([b"ITM-1", b"\xffA", b"ITM-3"], pa.binary()),
            "quantity": pa.array(["4", "abc", "6"]),
            "unit_cost": pa.array([1.5, 2.0, 3.25]),
            "updated_at": pa.array(["2024-01-31 08:15:00.250000", "2024-01-31 09:00:00", "x"]),
        }
    )

    rows = conform(raw, SCHEMA, source="erp", entity="items")

    assert rows.column_names == [*SCHEMA.names, TYPE_ERRORS]
    assert rows["item_id"].to_pylist() == ["ITM-1", None, "ITM-3"]
    assert rows["quantity"].to_pylist() == [4, None, 6]
    assert rows["updated_at"].to_pylist() == [
        datetime(2024, 1, 31, 8, 15, 0, 250000),
        datetime(2024, 1, 31, 9),
        None,
    ]
    assert rows[TYPE_ERRORS].to_pylist() == [
        None,
        "item_id: invalid UTF-8 b'\\xffA'; quantity: 'abc' is not a valid int64",
        "updated_at: 'x' is not a valid timestamp[us]",
    ]


def test_sqlite_raw_companion_names_a_value_of_the_wrong_storage_class():
    raw = pa.table(
        {
            "item_id": pa.array([b"ITM-1", b"ITM-2"]),
            "quantity": pa.array([4, None], pa.int64()),
            "quantity__raw": pa.array([b"", b"12 un"]),
            "unit_cost": pa.array([1.0, 2.0]),
            "updated_at": pa.array(["2024-01-31 08:00:00"] * 2),
        }
    )

    rows = conform(raw, SCHEMA, source="erp", entity="items")

    assert "quantity__raw" not in rows.column_names
    assert rows[TYPE_ERRORS].to_pylist() == [None, "quantity: '12 un' is not a valid int64"]


def test_a_clean_read_has_no_type_errors_and_a_missing_column_is_drift():
    raw = pa.table(
        {
            "item_id": ["ITM-1"],
            "quantity": [4],
            "unit_cost": [1.0],
            "updated_at": ["2024-01-31 08:00:00"],
        }
    )
    rows = conform(raw, SCHEMA, source="erp", entity="items")
    assert rows[TYPE_ERRORS].null_count == 1

    with pytest.raises(SchemaDriftError, match="unit_cost"):
        conform(raw.drop_columns(["unit_cost"]), SCHEMA, source="erp", entity="items")
