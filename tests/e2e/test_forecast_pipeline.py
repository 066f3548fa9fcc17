"""Training and the daily forecast steps on a tiny demo: champion, forecasts, marts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.gold import content_hash
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.pipeline.forecast import ML_FORECASTS
from backend.settings import Settings

pytestmark = pytest.mark.slow

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=12, depots=2, towers=10, years=1, end_date=END, seed=5)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("forecast")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
        forecast_horizon=14,
        forecast_history_days=300,
        train_sample_per_class=10,
        train_windows=1,
        forecast_jobs=1,
    )
    generate_demo(settings.erp_url, CONFIG)
    ctx = runner.run(
        RunContext(start=END - timedelta(days=364), end=END - timedelta(days=1),
                   settings=settings, kind="backfill")
    )  # fmt: skip
    assert ctx.report.status == "success"
    return settings


def _count(settings: Settings, *parts: str) -> int:
    conn = connect()
    try:
        uri = delta.table_uri(*parts, settings=settings)
        return conn.execute("select count(*) from delta_scan(?)", [uri]).fetchone()[0]
    finally:
        conn.close()


def test_without_a_champion_the_forecast_steps_are_skipped_with_a_hint(lake: Settings):
    ctx = runner.run(RunContext(start=END, end=END, settings=lake))
    steps = {s.name: s for s in ctx.report.steps}
    assert steps["forecast"].status == "skipped"
    assert "nova train" in steps["forecast"].detail["reason"]
    assert steps["transform_forecasts"].status == "skipped"
    assert ctx.report.status == "success"


def test_train_then_daily_run_forecasts_every_pair_idempotently(lake: Settings):
    from ml import registry
    from ml.train import train

    summary = train(lake, log=lambda _: None)
    assert summary.promoted and summary.champion_version is None
    registry.configure(lake.mlflow_uri)
    assert registry.champion_version() == summary.version

    ctx = runner.run(RunContext(start=END, end=END, settings=lake))
    assert ctx.report.status == "success", ctx.report.errors
    uri = delta.table_uri(*ML_FORECASTS, settings=lake)
    pairs = (
        _count(lake, "gold", "fct_daily_demand")
        and connect()
        .execute(
            "select count(distinct item_id || depot_id) from delta_scan(?)",
            [delta.table_uri("gold", "fct_daily_demand", settings=lake)],
        )
        .fetchone()[0]
    )
    assert _count(lake, *ML_FORECASTS) == pairs * 14
    before = {t: content_hash(delta.table_uri("gold", t, settings=lake)) for t in
              ("fct_forecasts", "fct_reorder_points", "fct_stock_alerts")}  # fmt: skip
    rows = content_hash(uri)

    # Re-running the day replaces its partition and rebuilds identical marts.
    runner.run(RunContext(start=END, end=END, settings=lake))
    assert content_hash(uri) == rows
    after = {t: content_hash(delta.table_uri("gold", t, settings=lake)) for t in before}
    assert after == before
    assert _count(lake, "gold", "fct_reorder_points") == pairs
    conn = connect()
    bad = conn.execute(
        "select count(*) from delta_scan(?) where yhat < 0 or yhat_hi_95 < yhat_hi_80",
        [delta.table_uri("gold", "fct_forecasts", settings=lake)],
    ).fetchone()[0]
    assert bad == 0


def test_a_second_training_keeps_the_champion_unless_it_wins(lake: Settings):
    from ml.train import train

    summary = train(lake, log=lambda _: None)
    assert summary.champion_version is not None and summary.champion_score is not None
    assert summary.promoted == (summary.challenger_score < summary.champion_score)


def test_train_json_writes_the_backtest_and_evaluation_tables(lake: Settings, tmp_path: Path):
    import json

    from rich.console import Console

    from backend.forecast_cli import run_train_command

    out = tmp_path / "train.json"
    run_train_command(Console(width=200, record=True), lake, None, out)
    data = json.loads(out.read_text())
    for table in ("backtest", "evaluation"):
        rows = [r for r in data[table] if r["model"] == "Ensemble" and r["demand_class"] == "all"]
        assert len(rows) == 1, table
        row = rows[0]
        assert {"rmsse", "mase", "bias", "cov80", "cov95", "series"} <= set(row)
        assert row["series"] > 0 and 0.0 <= row["cov80"] <= row["cov95"] <= 1.0
    models = {r["model"] for r in data["evaluation"]}
    assert {"LightGBM", "LevelSeason364", "Ensemble (no bias correction)"} <= models
    assert set(data["bias_correction"]) >= {"all"}
    assert data["evaluation_by_week"] and data["evaluation_by_stage"]
