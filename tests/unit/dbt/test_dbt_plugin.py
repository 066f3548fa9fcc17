"""The dbt-duckdb plugin that publishes marts as Delta tables (backend/lake/dbt_plugin.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt.adapters.duckdb.relation import DuckDBRelation
from dbt.adapters.duckdb.utils import TargetConfig, TargetLocation
from deltalake import DeltaTable

from backend.lake.dbt_plugin import Plugin


def _target(path: Path, identifier: str, fmt: str = "parquet") -> TargetConfig:
    relation = DuckDBRelation.create(database="nova", schema="main", identifier=identifier)
    return TargetConfig(
        relation=relation,
        column_list=[],
        config=None,
        location=TargetLocation(path=str(path), format=fmt),
    )


def _write_parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def test_store_publishes_the_parquet_file_as_a_delta_table(tmp_path: Path) -> None:
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    rows = pa.table({"item_id": ["A", "B"], "demand_date": [date(2025, 1, 1)] * 2, "qty": [1, 2]})
    plugin.store(_target(_write_parquet(tmp_path / "m.parquet", rows), "fct_thing"))

    published = DeltaTable(str(tmp_path / "lake" / "gold" / "fct_thing")).to_pyarrow_table()
    assert published.sort_by("item_id").equals(rows)


def test_store_overwrites_rows_and_schema(tmp_path: Path) -> None:
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    first = pa.table({"key": [1, 2, 3]})
    second = pa.table({"key": [7], "label": ["seven"]})
    plugin.store(_target(_write_parquet(tmp_path / "a.parquet", first), "dim_thing"))
    plugin.store(_target(_write_parquet(tmp_path / "b.parquet", second), "dim_thing"))

    table = DeltaTable(str(tmp_path / "lake" / "gold" / "dim_thing"))
    assert table.version() == 1
    assert table.to_pyarrow_table().equals(second)


def test_store_turns_the_placeholder_row_of_an_empty_model_into_no_rows(tmp_path: Path) -> None:
    # dbt-duckdb's external materialization writes one all-null row for an empty model
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    placeholder = pa.table(
        {"key": pa.array([None], pa.int64()), "name": pa.array([None], pa.string())}
    )
    plugin.store(_target(_write_parquet(tmp_path / "e.parquet", placeholder), "fct_empty"))

    published = DeltaTable(str(tmp_path / "lake" / "gold" / "fct_empty")).to_pyarrow_table()
    assert published.num_rows == 0
    assert published.schema.names == ["key", "name"]


def test_store_rejects_other_formats(tmp_path: Path) -> None:
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    with pytest.raises(ValueError, match="parquet"):
        plugin.store(_target(tmp_path / "m.csv", "dim_thing", fmt="csv"))


def test_lake_root_is_required() -> None:
    with pytest.raises(ValueError, match="lake_root"):
        Plugin(name="gold", plugin_config={})


def test_object_store_roots_are_kept_as_uris() -> None:
    plugin = Plugin(name="gold", plugin_config={"lake_root": "s3://bucket/prefix/"})
    assert plugin.table_uri("dim_items") == "s3://bucket/prefix/gold/dim_items"


def test_store_reads_a_directory_of_parquet_files(tmp_path: Path) -> None:
    # what the external materialization writes with `options: {per_thread_output: true}`
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    (tmp_path / "out").mkdir()
    _write_parquet(tmp_path / "out" / "data_0.parquet", pa.table({"key": [1, 2]}))
    _write_parquet(tmp_path / "out" / "data_1.parquet", pa.table({"key": [3]}))
    plugin.store(_target(tmp_path / "out", "fct_split"))

    published = DeltaTable(str(tmp_path / "lake" / "gold" / "fct_split")).to_pyarrow_table()
    assert sorted(published["key"].to_pylist()) == [1, 2, 3]
