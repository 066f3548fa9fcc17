"""The global LightGBM model on a panel that holds pairs without any demand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.gbm import LightGBMGlobal


def test_a_series_without_demand_is_forecast_zero() -> None:
    # 406 pairs of the default demo with no demand in 730 days were forecast about 0.7 a
    # day each (62 units a quarter): their scale fell back to 1, so their features read
    # as those of a part consuming one a day.
    rng = np.random.default_rng(0)
    ds = pd.date_range("2025-01-01", periods=200, freq="D")
    frames = [
        pd.DataFrame({"unique_id": f"live{i}", "ds": ds, "y": rng.poisson(1.0 + i, len(ds))})
        for i in range(6)
    ]
    frames += [pd.DataFrame({"unique_id": f"dead{i}", "ds": ds, "y": 0.0}) for i in range(3)]
    df = pd.concat(frames, ignore_index=True).astype({"y": float})

    fc = LightGBMGlobal(n_jobs=1, num_boost_round=30).forecast(df, 14, "D")

    dead = fc[fc["unique_id"].str.startswith("dead")]["LightGBM"]
    live = fc[fc["unique_id"].str.startswith("live")].groupby("unique_id")["LightGBM"].mean()
    assert len(dead) == 3 * 14
    assert (dead == 0.0).all()
    # the live parts keep forecasts near their own rates (1 .. 6 a day)
    assert (live > 0.5).all()
    assert live.is_monotonic_increasing
