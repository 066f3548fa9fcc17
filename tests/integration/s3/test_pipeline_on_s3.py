"""The spine with its lake on S3 (SeaweedFS): bronze extract and merge, quarantine, dbt on
DuckDB reading bronze through httpfs, gold published as Delta, forecasts and the forecast
marts, the outbox and the gold version, all under ``s3://<bucket>/<prefix>``.

Reuses the small demo of tests/e2e/test_pipeline.py (same config, run and gold helpers).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.fs as pafs
import pytest
from deltalake import DeltaTable

from backend.demo.erp import generate_demo
from backend.events.outbox import read_outbox
from backend.ingest.base import bronze_uri
from backend.lake import delta
from backend.lake.gold import content_hash, gold_summary, gold_tables, latest_report
from backend.lake.reader import read_gold_version
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.pipeline.forecast import ML_FORECASTS, forecasts_uri, to_table, write_forecasts
from backend.settings import Settings
from ml.data import load_gold_demand
from tests.e2e.test_pipeline import CONFIG, END, MARTS, _gold, _run
from tests.services.s3 import S3Server

pytestmark = [pytest.mark.integration, pytest.mark.s3, pytest.mark.slow]

FORECAST_MARTS = {"fct_forecasts", "fct_reorder_points", "fct_stock_alerts", "fct_actions"}
HORIZON = 14


@pytest.fixture(scope="module")
def lake(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root: Path = tmp_path_factory.mktemp("s3-spine")
    settings = s3.settings(
        f"spine-{uuid.uuid4().hex[:8]}",
        env="test",
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
        forecast_horizon=HORIZON,
    )
    generate_demo(settings.erp_url, CONFIG)
    backfill = _run(settings, END - timedelta(days=364), END - timedelta(days=1))
    assert backfill.report.status == "success", backfill.report.errors
    yield settings
    # Nothing of the lake may have gone to a local path named like the URI.
    assert not Path("s3:").exists() and not (root / "s3:").exists()


def _keys(s3: S3Server, settings: Settings) -> set[str]:
    """Object keys under the lake's prefix, listed by a client of our own."""
    prefix = settings.lake_uri.removeprefix("s3://")
    infos = s3.filesystem().get_file_info(pafs.FileSelector(prefix, recursive=True))
    return {i.path.removeprefix(prefix + "/") for i in infos if i.type == pafs.FileType.File}


def _naive_forecasts(settings: Settings, day: date) -> int:
    """What the forecast step writes, from a stand-in model (each series' last 28-day
    mean): the step's own gold read and ml_forecasts write, without an MLflow champion."""
    history = load_gold_demand(settings, end=day.isoformat(), days=28)
    level = history.groupby(["unique_id", "item_id", "depot_id"], as_index=False)["y"].mean()
    frame = level.merge(pd.DataFrame({"step": range(1, HORIZON + 1)}), how="cross")
    frame["ds"] = pd.Timestamp(day) + pd.to_timedelta(frame["step"], unit="D")
    frame["yhat"] = frame["y"]
    for level_pct, width in (("80", 0.5), ("95", 1.0)):
        frame[f"yhat_lo_{level_pct}"] = frame["y"] * (1 - width)
        frame[f"yhat_hi_{level_pct}"] = frame["y"] * (1 + width)
    frame["demand_class"], frame["model_name"] = "smooth", "naive"
    table = to_table(frame, day, "naive-1")
    ctx = RunContext(start=day, end=day, settings=settings)
    write_forecasts(forecasts_uri(ctx), table, day, settings)
    return table.num_rows


@pytest.fixture(scope="module")
def daily(lake: Settings) -> RunContext:
    """The daily run of END on the backfilled lake."""
    return _run(lake, END, END)


def test_daily_run_on_s3_publishes_gold_readable_by_deltalake_and_duckdb(
    lake: Settings, daily: RunContext, s3: S3Server
):
    ctx = daily
    assert ctx.report.status == "success", ctx.report.errors
    assert ctx.report.dbt_tests["pass"] > 50
    assert ctx.report.dbt_tests["fail"] == ctx.report.dbt_tests["error"] == 0
    assert set(gold_tables(lake)) == MARTS
    for table in gold_summary(lake):  # rows read by deltalake and by DuckDB's delta_scan
        assert table["rows_deltalake"] == table["rows_duckdb"] > 0, table
        written = ctx.report.tables[f"gold.{table['table']}"].rows_written
        assert written == table["rows_deltalake"], table
    # Quarantine, watermarks, the run report and the gold version live on S3 too.
    rules = {r["rule"] for r in delta.read_table(
        delta.table_uri("quarantine", settings=lake), columns=["rule"], settings=lake
    ).to_pylist()}  # fmt: skip
    assert {"positive_quantity", "relationship:item_id->items.item_id"} <= rules
    saved = latest_report(lake)
    assert saved is not None and saved["run_id"] == ctx.run_id
    version = read_gold_version(lake)
    assert version is not None and version["version"] == ctx.run_id
    keys = _keys(s3, lake)
    assert "gold/_version.json" in keys
    assert any(k.startswith(f"reports/run_date={END}/") for k in keys)
    for layer in ("bronze/erp/stock_movements/", "state/watermarks/", "gold/fct_daily_demand/"):
        assert any(k.startswith(f"{layer}_delta_log/") for k in keys), layer


def test_rerunning_a_date_on_s3_changes_nothing(lake: Settings, daily: RunContext):
    movements = bronze_uri("erp", "stock_movements", lake)
    quarantine = delta.table_uri("quarantine", settings=lake)
    before = (_gold(lake), content_hash(movements, lake), content_hash(quarantine, lake))
    again = _run(lake, END, END)
    after = (_gold(lake), content_hash(movements, lake), content_hash(quarantine, lake))

    assert again.report.status == "success" and again.run_id != daily.run_id
    assert set(after[0]) == MARTS
    assert after == before


def test_forecasts_marts_and_outbox_on_s3(lake: Settings):
    written = _naive_forecasts(lake, END)
    ctx = RunContext(start=END, end=END, settings=lake)

    steps.transform_forecasts(ctx)
    published = steps.publish(ctx)

    assert written > 0
    forecasts = DeltaTable(
        delta.table_uri(*ML_FORECASTS, settings=lake), storage_options=delta.storage_options(lake)
    )
    assert forecasts.to_pyarrow_dataset().count_rows() == written
    assert set(gold_tables(lake)) == MARTS | FORECAST_MARTS
    summary = {t["table"]: t for t in gold_summary(lake)}
    assert summary["fct_reorder_points"]["rows_duckdb"] > 0
    alerts = summary["fct_stock_alerts"]["rows_deltalake"]
    assert alerts > 0
    # No Kafka here: every alert waits in the outbox (a Delta table on S3), once.
    assert published == {"alerts": alerts, "new": alerts, "sent": 0, "pending": alerts}
    assert list(read_outbox(lake).values()) == ["pending"] * alerts
    assert steps.publish(RunContext(start=END, end=END, settings=lake))["new"] == 0
