"""`nova forecast` on a small long table: backtest table printed, forecasts written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from backend.cli import app


def test_forecast_command_writes_forecasts_and_prints_the_backtest(tmp_path: Path):
    rng = np.random.default_rng(1)
    ds = pd.date_range("2020-01-01", periods=36, freq="MS")
    ids = [f"p{i}" for i in range(12)]
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, 36),
            "ds": np.tile(ds, 12),
            "y": rng.poisson(np.repeat(rng.uniform(0.2, 6, 12), 36)).astype(float),
        }
    )
    source = tmp_path / "series.csv"
    df.to_csv(source, index=False)
    out = tmp_path / "forecasts.parquet"
    result = CliRunner().invoke(
        app,
        ["forecast", "--input", str(source), "--freq", "M", "--horizon", "3",
         "--output", str(out), "--windows", "2", "--jobs", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Backtest" in result.output and "Ensemble" in result.output and "rmsse" in result.output
    fc = pd.read_parquet(out)
    assert len(fc) == 12 * 3
    assert (fc["yhat"] >= 0).all() and (fc["yhat_hi_95"] >= fc["yhat_hi_80"]).all()
    assert set(fc["demand_class"]) <= {"smooth", "erratic", "intermittent", "lumpy"}


def test_forecast_command_rejects_bad_input(tmp_path: Path):
    result = CliRunner().invoke(
        app,
        ["forecast", "--input", str(tmp_path / "missing.csv"), "--freq", "M",
         "--output", str(tmp_path / "out.csv")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not exist" in " ".join(result.output.split())
    result = CliRunner().invoke(
        app, ["forecast", "--input", "x.csv", "--freq", "Q", "--output", "o.csv"]
    )
    assert result.exit_code != 0
