"""Gold as a snapshot: readers see exactly the table versions the last publish recorded;
vacuum keeps the published snapshot and a floor of history; queries have a time limit."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backend.events.outbox import bump_gold_version
from backend.lake import delta
from backend.lake.gold import effective_retention_hours, vacuum_gold_table
from backend.lake.reader import GoldReader, QueryTimeout, read_gold_version
from backend.settings import Settings

pytestmark = pytest.mark.reliability

SQL = (
    "select f.n, d.label from delta_scan($t_fct_thing) f "
    "join delta_scan($t_dim_thing) d using (n) order by n"
)


def _settings(tmp_path: Path) -> Settings:
    return Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")


def _write(settings: Settings, name: str, rows: list[dict[str, object]]) -> None:
    write_deltalake(
        delta.table_uri("gold", name, settings=settings),
        pa.Table.from_pylist(rows),
        mode="overwrite",
        schema_mode="overwrite",
    )


def _day(settings: Settings, label: str) -> None:
    """What `transform` does to two marts on one day."""
    _write(settings, "dim_thing", [{"n": 1, "label": label}])
    _write(settings, "fct_thing", [{"n": 1, "run": label}])


def test_a_reader_sees_the_published_snapshot_not_marts_rewritten_since(tmp_path: Path):
    settings = _settings(tmp_path)
    _day(settings, "monday")
    bump_gold_version(settings, "run-monday", date(2026, 10, 26))
    assert read_gold_version(settings)["tables"] == {"dim_thing": 0, "fct_thing": 0}  # type: ignore[index]

    # Tuesday's transform rewrites one mart, then (say) fails before the other.
    _write(settings, "dim_thing", [{"n": 1, "label": "tuesday"}])
    published = GoldReader.published(settings)
    assert published.rows(SQL, tables=["fct_thing", "dim_thing"]) == [{"n": 1, "label": "monday"}]
    # The pipeline's own reads (publish reads the alerts it is about to publish) see latest.
    latest = GoldReader(settings)
    assert latest.rows(SQL, tables=["fct_thing", "dim_thing"]) == [{"n": 1, "label": "tuesday"}]


def test_a_table_outside_the_snapshot_is_not_served(tmp_path: Path):
    settings = _settings(tmp_path)
    _day(settings, "monday")
    bump_gold_version(settings, "run-monday", date(2026, 10, 26))
    _write(settings, "fct_new_mart", [{"n": 1}])  # built by a run not published yet
    reader = GoldReader.published(settings)
    assert not reader.exists("fct_new_mart")
    assert reader.rows("select * from delta_scan($t_fct_new_mart)", tables=["fct_new_mart"]) == []


def test_a_version_without_table_versions_reads_latest(tmp_path: Path):
    """Versions written before snapshots (or by hand, as API tests do) keep working."""
    settings = _settings(tmp_path)
    _day(settings, "monday")
    reader = GoldReader.published(settings, {"version": "v1"})
    assert reader.versions is None
    assert reader.rows(SQL, tables=["fct_thing", "dim_thing"])[0]["label"] == "monday"


def test_vacuum_keeps_the_published_version_whatever_its_age(tmp_path: Path):
    settings = _settings(tmp_path)
    for label in ("v0", "v1", "v2"):
        _write(settings, "dim_thing", [{"n": 1, "label": label}])
    uri = delta.table_uri("gold", "dim_thing", settings=settings)
    deleted = vacuum_gold_table(uri, retention_hours=0, keep_version=0, storage_options=None)
    assert len(deleted) == 1  # v1's file: neither current nor published
    assert DeltaTable(uri, version=0).to_pyarrow_table()["label"].to_pylist() == ["v0"]


def test_a_retention_below_the_floor_is_raised_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    settings = _settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="nova.gold"):
        assert effective_retention_hours(0, settings) == 1
    assert "below the floor" in caplog.text
    slow_api = settings.model_copy(update={"api_query_timeout_seconds": 7200.0})
    assert effective_retention_hours(1, slow_api) == 3  # 2 x 1 s + 2 h, rounded up
    assert effective_retention_hours(168, settings) == 168


def test_a_query_past_its_time_limit_is_interrupted(tmp_path: Path):
    settings = _settings(tmp_path)
    _day(settings, "monday")
    reader = GoldReader(settings, timeout_seconds=0.2)
    with pytest.raises(QueryTimeout):
        reader.rows(
            "select count(*) from delta_scan($t_dim_thing), range(100000000000) a(x) "
            "where hash(x) = 42",
            tables=["dim_thing"],
        )
    assert reader.rows("select count(*) as c from delta_scan($t_dim_thing)", tables=["dim_thing"])
