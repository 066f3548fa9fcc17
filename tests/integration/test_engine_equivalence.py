"""One dbt project, two engines: the demo's silver and gold built by DuckDB and by a local
Spark session (dbt-spark, `session` method) from the same bronze must be the same."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.gold import gold_tables
from backend.lake.spark import local_session, stage_sources, table_fingerprint
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.pipeline.dbt import run_dbt
from backend.pipeline.forecast import ML_FORECASTS, to_table, write_forecasts
from backend.pipeline.steps import DAILY_EXCLUDE
from backend.settings import Settings
from ml import lead_time_reorder
from ml.data import load_gold_demand

pytestmark = [pytest.mark.spark, pytest.mark.slow]

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=30, depots=3, towers=20, years=1, end_date=END, seed=23)
HORIZON = 30


def _write_naive_forecasts(settings: Settings) -> None:
    """ml_forecasts for END from a moving average, so the forecast marts have input
    without training a model (their equivalence is about SQL, not about the model)."""
    demand = DeltaTable(delta.table_uri("gold", "fct_daily_demand", settings=settings))
    frame = demand.to_pandas(columns=["item_id", "depot_id", "demand_date", "demand_qty"])
    recent = frame[pd.to_datetime(frame["demand_date"]) > pd.Timestamp(END - timedelta(days=28))]
    means = recent.groupby(["item_id", "depot_id"], as_index=False)["demand_qty"].mean()
    rows = []
    for pair in means.itertuples(index=False):
        for step in range(1, HORIZON + 1):
            level = float(pair.demand_qty)
            rows.append(
                {
                    "unique_id": f"{pair.item_id}|{pair.depot_id}",
                    "item_id": pair.item_id,
                    "depot_id": pair.depot_id,
                    "ds": pd.Timestamp(END + timedelta(days=step)),
                    "step": step,
                    "yhat": level,
                    "yhat_lo_80": 0.0,
                    "yhat_hi_80": level * 2 + 1,
                    "yhat_lo_95": 0.0,
                    "yhat_hi_95": level * 3 + 2,
                    "demand_class": "smooth" if level >= 1 else "intermittent",
                    "model_name": "moving_average",
                }
            )
    table = to_table(pd.DataFrame(rows), END, "test")
    write_forecasts(delta.table_uri(*ML_FORECASTS, settings=settings), table, END, settings)
    # the forecast step's lead-time quantiles, so both engines run the bootstrap reorder
    # points of the intermittent pairs too
    history = load_gold_demand(settings, end=END.isoformat(), days=365, censored="mark")
    pairs = pd.DataFrame(rows).drop_duplicates(["item_id", "depot_id"])
    assert lead_time_reorder.run(settings, pairs, END, history) > 0


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Settings]:
    root: Path = tmp_path_factory.mktemp("engines")
    duck = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "duckdb",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )
    generate_demo(duck.erp_url, CONFIG)
    ctx = runner.run(
        RunContext(start=END - timedelta(days=364), end=END, settings=duck, kind="backfill")
    )
    assert ctx.report.status == "success", ctx.report.errors
    _write_naive_forecasts(duck)
    forecast_marts = run_dbt("build", duck, select=["tag:forecast"], run_date=END)
    assert forecast_marts.error is None, forecast_marts.failures

    spark = duck.model_copy(
        update={"warehouse_dir": root / "spark", "dbt_target": "spark", "spark_driver_memory": "2g"}
    )
    # as the pipeline builds: the run date set, unit tests apart (they pin their own dates)
    built = run_dbt("build", spark, run_date=END, extra=DAILY_EXCLUDE)
    assert built.error is None, built.failures
    assert built.count("test", "pass") > 50
    # dbt's unit tests (hand-computed cases, e.g. the reorder policy) on both engines:
    # they need every model's relation, so they run after the builds
    for settings in (duck, spark):
        unit_tests = run_dbt("test", settings, select=["test_type:unit"])
        assert unit_tests.error is None, (settings.dbt_target, unit_tests.failures)
        passed = {n["unique_id"] for n in unit_tests.nodes if n["status"] == "pass"}
        assert len(passed) >= 5 and any("fct_reorder_points" in uid for uid in passed)
    return duck, spark


def test_spark_builds_every_mart_the_duckdb_build_publishes(engines):
    duck, spark = engines
    manifest = json.loads((spark.warehouse_path / "dbt-target" / "manifest.json").read_text())
    marts = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "marts" in node["fqn"]
    }
    # fct_alert_history stays in the warehouse on DuckDB (an incremental history)
    assert set(gold_tables(duck)) == marts - {"fct_alert_history"}
    session = local_session(spark)
    tables = {row.tableName for row in session.sql("show tables in nova").collect()}
    assert marts <= tables
    # bronze was staged once: a table whose Delta version did not move is not copied again
    outcomes = stage_sources(session, spark)
    assert outcomes and all(o.startswith("unchanged v") for o in outcomes.values()), outcomes


def test_every_mart_has_the_same_rows_and_content_on_both_engines(engines):
    duck, spark_settings = engines
    session = local_session(spark_settings)
    differences = {}
    for mart in sorted(gold_tables(duck)):
        on_duckdb = table_fingerprint(
            DeltaTable(delta.table_uri("gold", mart, settings=duck)).to_pyarrow_table()
        )
        on_spark = table_fingerprint(session.table(f"nova.{mart}").toArrow())
        assert on_duckdb[0] > 0, f"{mart} is empty: the comparison would prove nothing"
        if on_duckdb != on_spark:
            differences[mart] = {"duckdb": on_duckdb, "spark": on_spark}
    assert differences == {}


def test_the_fingerprint_sees_a_changed_value(engines):
    duck, _ = engines
    table = DeltaTable(delta.table_uri("gold", "dim_items", settings=duck)).to_pyarrow_table()
    changed = table.set_column(
        table.schema.get_field_index("item_id"),
        "item_id",
        pa.array(table.column("item_id").to_pandas().str.lower()),
    )
    assert table_fingerprint(table)[0] == table_fingerprint(changed)[0]
    assert table_fingerprint(table)[1] != table_fingerprint(changed)[1]


def test_intermittent_pairs_take_the_bootstrap_reorder_point(engines):
    duck, _ = engines
    policy = DeltaTable(delta.table_uri("gold", "fct_reorder_points", settings=duck)).to_pandas()
    used = policy.groupby(["demand_class", "lead_time_model"]).size().to_dict()
    # the fixture's forecasts class pairs smooth or intermittent; only these get quantiles
    assert used.get(("intermittent", "bootstrap"), 0) > 0, used
    assert ("smooth", "bootstrap") not in used, used
