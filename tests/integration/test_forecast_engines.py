"""The forecast step on both engines (NOVA_FORECAST_ENGINE=inprocess|spark), on a small
demo trained by `nova train`: the same ml_forecasts partition and lead-time quantiles.

Tolerance: 1e-9 (relative and absolute) on the forecast values (floating-point sums in
another order could move the last bits), every other column equal; the lead-time
quantiles, computed in-process for both engines from the same history rows, equal.

What can differ, and why it does not here:

* everything in the champion's ``predict`` is per series (demand class, local models,
  ensemble weights, bias factor, interval scale) except the global models;
* LightGBM is frozen at training and its features look back from each step, so a group
  of series gets the values the population gets, unless a series' history ends before
  the group's last date (it is then the fallback's in-process, LightGBM's in a group of
  series ending on its date): gold has a row for every pair and day up to D (checked);
* LevelSeason pools its season, weekday profile and growth over the series of a call:
  Spark groups hold at least ``SERIES_PER_GROUP`` series, so this demo is one group and
  the answer is the in-process one. Split into groups, the pooled parts come from a
  random sample of the series; ``benchmarks/forecast_engines.py`` prints how far that
  moves the default demo's forecasts, and tests/unit/pipeline/test_forecast_spark.py
  checks the split (four groups) with a champion without pooled parts.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.pipeline.forecast import ML_FORECASTS, run_forecast
from backend.settings import Settings
from ml.lead_time_reorder import LEAD_TIME_QUANTILES

pytestmark = [pytest.mark.spark, pytest.mark.slow]

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=12, depots=2, towers=10, years=1, end_date=END, seed=5)
HORIZON = 14


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from ml.train import train

    root: Path = tmp_path_factory.mktemp("forecast_engines")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
        forecast_horizon=HORIZON,
        forecast_history_days=300,
        train_sample_per_class=10,
        train_windows=1,
        forecast_jobs=1,
        spark_driver_memory="2g",
    )
    generate_demo(settings.erp_url, CONFIG)
    ctx = runner.run(
        RunContext(start=END - timedelta(days=364), end=END, settings=settings, kind="backfill")
    )
    assert ctx.report.status == "success", ctx.report.errors
    assert train(settings, log=lambda _: None).promoted
    return settings


def _partition(settings: Settings, parts: tuple[str, str], sort: list[str]) -> pd.DataFrame:
    table = DeltaTable(delta.table_uri(*parts, settings=settings))
    frame = table.to_pandas(filters=[("forecast_date", "=", END)])
    return frame.sort_values(sort, ignore_index=True)


def _step(settings: Settings) -> tuple[int, dict[str, int], list[str]]:
    ctx = RunContext(start=END, end=END, settings=settings)
    written = run_forecast(ctx)
    stats = ctx.report.table("ml.ml_forecasts")
    quantiles = ctx.report.table("ml.lead_time_quantiles")
    counts = {
        "forecasts_read": stats.rows_read,
        "forecasts_written": stats.rows_written,
        "quantiles_written": quantiles.rows_written,
    }
    return written, counts, list(ctx.report.errors)


def test_gold_demand_has_every_pair_up_to_the_run_date(lake: Settings):
    demand = DeltaTable(delta.table_uri("gold", "fct_daily_demand", settings=lake)).to_pandas(
        columns=["item_id", "depot_id", "demand_date"]
    )
    last = demand.groupby(["item_id", "depot_id"])["demand_date"].max()
    assert len(last) >= 12 and (pd.to_datetime(last) == pd.Timestamp(END)).all()


def test_both_engines_write_the_same_forecasts_and_quantiles(lake: Settings):
    inprocess = lake.model_copy(update={"forecast_engine": "inprocess"})
    spark = lake.model_copy(update={"forecast_engine": "spark"})

    written, counts, errors = _step(inprocess)
    forecast_keys = ["unique_id", "horizon_day"]
    quantile_keys = ["item_id", "depot_id", "level_key"]
    want = _partition(lake, ML_FORECASTS, forecast_keys)
    want_q = _partition(lake, LEAD_TIME_QUANTILES, quantile_keys)
    pairs = want["unique_id"].nunique()
    assert pairs >= 12 and written == pairs * HORIZON == len(want)
    assert counts["quantiles_written"] > 0, "no intermittent or lumpy pair: nothing compared"

    # Spark replaces the same partition (written twice: a re-run does not duplicate)
    for _ in range(2):
        spark_written, spark_counts, spark_errors = _step(spark)
    have = _partition(lake, ML_FORECASTS, forecast_keys)
    have_q = _partition(lake, LEAD_TIME_QUANTILES, quantile_keys)

    assert spark_written == written
    assert spark_counts == counts
    assert spark_errors == errors
    values = [c for c in want if c.startswith("yhat")]
    others = [c for c in want if c not in values]
    pd.testing.assert_frame_equal(have[others], want[others])
    for column in values:
        np.testing.assert_allclose(have[column], want[column], rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(have_q, want_q)
    # the comparison is not between two empty or flat answers
    assert want["yhat"].nunique() > pairs and set(want["demand_class"]) >= {"intermittent"}
