"""The dbt-duckdb plugin that publishes marts as Delta tables (backend/lake/dbt_plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.duckdb.relation import DuckDBRelation
from dbt.adapters.duckdb.utils import TargetConfig, TargetLocation
from deltalake import DeltaTable

from backend.lake.dbt_plugin import Plugin, partition_predicate


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _plugin(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> Plugin:
    plugin = Plugin(name="gold", plugin_config={"lake_root": str(tmp_path / "lake")})
    plugin.configure_connection(conn)
    return plugin


def _target(identifier: str, source_view: str, fmt: str = "delta") -> TargetConfig:
    relation = DuckDBRelation.create(database="memory", schema="main", identifier=identifier)
    return TargetConfig(
        relation=relation,
        column_list=[],
        config=None,
        location=TargetLocation(path=source_view, format=fmt),
    )


def test_store_streams_the_model_into_delta_and_repoints_the_relation(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute(
        "create view fct_thing__dbt_src as select * from (values "
        "('A', date '2025-01-01', 1), ('B', date '2025-01-01', 2)) t(item_id, day, qty)"
    )
    plugin.store(_target("fct_thing", '"memory"."main"."fct_thing__dbt_src"'))

    published = DeltaTable(str(tmp_path / "lake" / "gold" / "fct_thing")).to_pyarrow_table()
    assert published.sort_by("item_id").to_pydict()["qty"] == [1, 2]
    # The model's relation now reads the published table itself.
    conn.execute("drop view fct_thing__dbt_src")
    assert conn.execute("select sum(qty) from fct_thing").fetchone() == (3,)


def test_store_overwrites_rows_and_schema(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute("create view a as select * from range(3) t(key)")
    plugin.store(_target("dim_thing", "a"))
    conn.execute("create view b as select 7 as key, 'seven' as label")
    plugin.store(_target("dim_thing", "b"))

    table = DeltaTable(str(tmp_path / "lake" / "gold" / "dim_thing"))
    assert table.version() == 1
    assert table.to_pyarrow_table().to_pylist() == [{"key": 7, "label": "seven"}]


def test_an_empty_model_publishes_its_schema_and_no_rows(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute("create view e as select 1::bigint as key, 'x' as name where false")
    plugin.store(_target("fct_empty", "e"))

    published = DeltaTable(str(tmp_path / "lake" / "gold" / "fct_empty")).to_pyarrow_table()
    assert published.num_rows == 0
    assert published.schema.names == ["key", "name"]


def test_store_rejects_models_of_other_materializations(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    with pytest.raises(ValueError, match="delta"):
        plugin.store(_target("dim_thing", "m.parquet", fmt="parquet"))


def test_lake_root_is_required() -> None:
    with pytest.raises(ValueError, match="lake_root"):
        Plugin(name="gold", plugin_config={})


def test_object_store_roots_are_kept_as_uris() -> None:
    plugin = Plugin(name="gold", plugin_config={"lake_root": "s3://bucket/prefix/"})
    assert plugin.table_uri("dim_items") == "s3://bucket/prefix/gold/dim_items"


def test_publishing_keeps_old_versions_for_at_least_the_retention_floor(tmp_path, conn):
    """A retention of 0 is raised to the floor (issue 15): the files a reader of the
    previous snapshot may still open are not deleted by the next publish."""
    plugin = Plugin(
        name="gold", plugin_config={"lake_root": str(tmp_path / "lake"), "retention_hours": 0}
    )
    assert plugin.retention_hours >= 1
    plugin.configure_connection(conn)
    conn.execute("create view v as select * from range(10) t(key)")
    for _ in range(3):
        plugin.store(_target("dim_thing", "v"))

    table_dir = tmp_path / "lake" / "gold" / "dim_thing"
    assert len(list(table_dir.glob("*.parquet"))) == 3
    assert DeltaTable(str(table_dir), version=0).to_pyarrow_table().num_rows == 10


def test_a_dev_target_publishes_under_its_own_directory_only(tmp_path, conn):
    plugin = Plugin(
        name="gold",
        plugin_config={"lake_root": str(tmp_path / "lake"), "dev_dir": str(tmp_path / "ana")},
    )
    plugin.configure_connection(conn)
    conn.execute("create view v as select * from range(4) t(key)")
    plugin.store(_target("dim_thing", "v"))

    assert DeltaTable(str(tmp_path / "ana" / "gold" / "dim_thing")).to_pyarrow_table().num_rows == 4
    assert not (tmp_path / "lake").exists()
    assert conn.execute("select count(*) from dim_thing").fetchone() == (4,)


@pytest.mark.parametrize("dev_dir", ["lake", "lake/gold/..", "lake/gold", "lake/gold/mine"])
def test_a_dev_directory_overlapping_the_served_gold_is_refused(tmp_path, dev_dir):
    config = {"lake_root": str(tmp_path / "lake"), "dev_dir": str(tmp_path / dev_dir)}
    with pytest.raises(ValueError, match="NOVA_DEV_DIR"):
        Plugin(name="gold", plugin_config=config)


def test_a_dev_directory_on_the_served_object_store_prefix_is_refused() -> None:
    config = {"lake_root": "s3://bucket/lake", "dev_dir": "s3://bucket/lake/"}
    with pytest.raises(ValueError, match="served gold"):
        Plugin(name="gold", plugin_config=config)
    beside = Plugin(name="gold", plugin_config={**config, "dev_dir": "s3://bucket/dev/ana"})
    assert beside.table_uri("dim_items") == "s3://bucket/dev/ana/gold/dim_items"


def _partitioned(identifier: str, source: str, fmt: str) -> TargetConfig:
    relation = DuckDBRelation.create(database="memory", schema="main", identifier=identifier)
    return TargetConfig(
        relation=relation,
        column_list=[],
        config={"partition_by": "day"},
        location=TargetLocation(path=source, format=fmt),
    )


def _days(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int]]:
    rows = conn.execute(f"select strftime(day, '%m-%d'), qty from {table} order by day, qty")
    return rows.fetchall()


def test_an_increment_replaces_its_partitions_and_drops_those_outside_its_span(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute(
        "create view full_build as select * from (values (date '2025-01-01', 1), "
        "(date '2025-01-02', 2), (date '2025-01-03', 3), (date '2025-01-03', 33), "
        "(date '2025-01-04', 4), (date '2025-01-05', 5)) t(day, qty)"
    )
    plugin.store(_partitioned("fct_days", "full_build", "delta"))
    uri = str(tmp_path / "lake" / "gold" / "fct_days")
    assert DeltaTable(uri).metadata().partition_columns == ["day"]
    # The increment spans the table from its first day (01) to its new last day (04):
    # 01, 02 and 04 rebuilt, 03 kept as it was, 05 dropped.
    conn.execute(
        "create table increment as select * from (values (date '2025-01-01', 10), "
        "(date '2025-01-02', 20), (date '2025-01-04', 40), (date '2025-01-04', 41)) t(day, qty)"
    )
    plugin.store(_partitioned("fct_days", "increment", "delta+replace"))

    assert _days(conn, "fct_days") == [
        ("01-01", 10), ("01-02", 20), ("01-03", 3), ("01-03", 33), ("01-04", 40), ("01-04", 41),
    ]  # fmt: skip
    assert "predicate" in DeltaTable(uri).history(1)[0]["operationParameters"]


def test_an_increment_over_an_unpartitioned_table_rewrites_it_partitioned(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute(
        "create view old as select * from (values (date '2025-01-01', 1), "
        "(date '2025-01-02', 2), (date '2025-01-03', 3)) t(day, qty)"
    )
    plugin.store(_target("fct_days", "old"))  # published before it was partitioned
    conn.execute(
        "create table increment as select * from (values (date '2025-01-01', 11), "
        "(date '2025-01-03', 30)) t(day, qty)"
    )
    plugin.store(_partitioned("fct_days", "increment", "delta+replace"))

    uri = str(tmp_path / "lake" / "gold" / "fct_days")
    assert DeltaTable(uri).metadata().partition_columns == ["day"]
    assert _days(conn, "fct_days") == [("01-01", 11), ("01-02", 2), ("01-03", 30)]


def test_an_increment_needs_a_published_table(tmp_path, conn):
    plugin = _plugin(tmp_path, conn)
    conn.execute("create table increment as select date '2025-01-03' as day, 30 as qty")
    with pytest.raises(FileNotFoundError, match="full-refresh"):
        plugin.store(_partitioned("fct_days", "increment", "delta+replace"))


def test_partition_predicate_names_the_values_and_the_span():
    assert partition_predicate("day", [date(2025, 1, 2), date(2025, 1, 4)]) == (
        "\"day\" < '2025-01-02' OR \"day\" > '2025-01-04' OR \"day\" IN ('2025-01-02', '2025-01-04')"
    )
    with pytest.raises(ValueError):
        partition_predicate("day; drop", [1])
