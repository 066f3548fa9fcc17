"""How Spark sees bronze: the local session stages each lake source (backend/lake/spark.py),
a Delta cluster registers it in place (macro register_delta_sources); both from the one
list of sources in the dbt project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.lake.spark import lake_sources
from backend.pipeline.dbt import dbt_args, dbt_environment
from backend.settings import Settings


def test_every_lake_source_of_the_project_is_found_with_its_delta_location(tmp_path: Path):
    settings = Settings(lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    sources = {source.relation: source.uri for source in lake_sources(settings)}
    lake = settings.lake_uri
    assert sources["erp.stock_movements"] == f"{lake}/bronze/erp/stock_movements"
    assert sources["quality.quarantine"] == f"{lake}/quarantine"
    assert sources["ml.ml_forecasts"] == f"{lake}/ml/ml_forecasts"
    assert {"anatel.stations", "bacen.series", "inmet.observations", "suppliers.quotes"} <= set(
        sources
    )


def test_a_delta_cluster_registers_the_same_sources_in_place(tmp_path: Path):
    from dbt.cli.main import dbtRunner

    settings = Settings(lake_root="s3://lake/nova", warehouse_dir=tmp_path / "wh")
    logged: list[str] = []

    def collect(event: Any) -> None:
        if event.info.name == "JinjaLogInfo":
            logged.append(event.info.msg)

    args = dbt_args("run-operation", settings)
    with dbt_environment(settings):
        result = dbtRunner(callbacks=[collect]).invoke(
            [*args, "register_delta_sources", "--args", "{dry_run: true}"]
        )
    assert result.success, result.exception
    expected = {
        f"create table if not exists {s.relation} using delta location "
        f"'{s.uri.replace('s3://', 's3a://')}'"
        for s in lake_sources(settings)
    }
    assert {line for line in logged if line.startswith("create table")} == expected
    schemas = [line for line in logged if line.startswith("create schema")]
    assert len(schemas) == len({s.schema for s in lake_sources(settings)})
