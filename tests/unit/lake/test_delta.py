from datetime import date

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backend.lake import delta
from backend.lake.gold import content_hash


def _rows(days: list[date], values: list[int]) -> pa.Table:
    return pa.table({"value": values, "_batch_id": ["b"] * len(values), "_ingest_date": days})


def test_overwrite_partitions_replaces_only_the_window(tmp_path):
    uri = str(tmp_path / "t")
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    delta.overwrite_partitions(uri, _rows([d1, d2, d3], [1, 2, 3]), d1, d3)
    delta.overwrite_partitions(uri, _rows([d2, d2], [20, 21]), d2, d2)
    delta.overwrite_partitions(uri, _rows([d2, d2], [20, 21]), d2, d2)

    table = DeltaTable(uri).to_pyarrow_table().sort_by("value")
    assert table["value"].to_pylist() == [1, 3, 20, 21]


def test_overwrite_with_no_rows_empties_the_window(tmp_path):
    uri = str(tmp_path / "t")
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    delta.overwrite_partitions(uri, _rows([d1, d2], [1, 2]), d1, d2)
    delta.overwrite_partitions(uri, _rows([], []).cast(_rows([d1], [1]).schema), d2, d2)
    assert DeltaTable(uri).to_pyarrow_table()["value"].to_pylist() == [1]


def test_rows_outside_the_window_are_refused(tmp_path):
    uri = str(tmp_path / "t")
    with pytest.raises(ValueError, match="escape the overwrite"):
        delta.overwrite_partitions(
            uri, _rows([date(2024, 1, 5)], [1]), date(2024, 1, 1), date(2024, 1, 2)
        )


def test_date_predicate_accepts_only_dates():
    with pytest.raises(TypeError):
        delta.date_range_predicate("2024-01-01' OR 1=1 --", date(2024, 1, 1))  # type: ignore[arg-type]


def test_content_hash_ignores_order_and_audit_columns(tmp_path):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    write_deltalake(
        first, pa.table({"k": [1, 2], "v": ["x", "y"], "_run": ["r1", "r1"]}), mode="overwrite"
    )
    write_deltalake(
        second, pa.table({"k": [2, 1], "v": ["y", "x"], "_run": ["r2", "r2"]}), mode="overwrite"
    )
    assert content_hash(first) == content_hash(second)
    assert content_hash(first)[0] == 2

    write_deltalake(
        second, pa.table({"k": [2, 1], "v": ["y", "z"], "_run": ["r2", "r2"]}), mode="overwrite"
    )
    assert content_hash(first) != content_hash(second)
