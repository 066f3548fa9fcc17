"""The forecast marts build only on the run date's forecasts, whoever runs the step."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.pipeline.forecast import (
    StepSkipped,
    forecasts_uri,
    has_forecasts_for,
    to_table,
    write_forecasts,
)
from backend.settings import Settings

D = date(2026, 10, 31)


def _forecast_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["I1|D1"],
            "item_id": ["I1"],
            "depot_id": ["D1"],
            "ds": [pd.Timestamp(D + timedelta(days=1))],
            "step": [1],
            "yhat": [1.0],
            "yhat_lo_80": [0.0],
            "yhat_hi_80": [2.0],
            "yhat_lo_95": [0.0],
            "yhat_hi_95": [3.0],
            "demand_class": ["smooth"],
            "model_name": ["naive"],
        }
    )


def test_yesterdays_forecasts_do_not_feed_todays_marts(tmp_path: Path):
    settings = Settings(lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    yesterday = RunContext(
        start=D - timedelta(days=1), end=D - timedelta(days=1), settings=settings
    )
    today = RunContext(start=D, end=D, settings=settings)
    assert not has_forecasts_for(today)  # no table at all

    written = to_table(_forecast_rows(), yesterday.end, "1")
    write_forecasts(forecasts_uri(yesterday), written, yesterday.end, settings)

    assert has_forecasts_for(yesterday)
    assert not has_forecasts_for(today)
    with pytest.raises(StepSkipped, match=str(D)):
        steps.transform_forecasts(today)
