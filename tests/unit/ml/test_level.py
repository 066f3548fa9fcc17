"""LevelSeason: a window average moved by the pooled yearly season, weekday and growth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.level import LevelSeason


def _seasonal_panel(
    n: int = 40, days: int = 760, growth: float = 0.0, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Poisson demand with a yearly season (peak in late May), a weekday profile and
    yearly growth; the last 90 days are held out."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=days, freq="D")
    doy = ds.dayofyear.to_numpy()
    season = 1.0 + 0.8 * np.clip(np.sin(np.pi * (doy - 75) / 150), 0, 1) * (doy <= 225)
    weekday = np.where(ds.dayofweek.to_numpy() >= 5, 0.3, 1.2)
    trend = np.exp(growth * np.arange(days) / 364)
    rows = []
    for i in range(n):
        base = rng.uniform(0.5, 4.0)
        y = rng.poisson(base * season * weekday * trend)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y.astype(float)}))
    df = pd.concat(rows, ignore_index=True)
    cut = ds[-91]
    return df[df["ds"] <= cut], df[df["ds"] > cut]


def _bias(fc: pd.DataFrame, test: pd.DataFrame, col: str) -> float:
    data = fc.merge(test, on=["unique_id", "ds"])
    return float((data[col].sum() - data["y"].sum()) / data["y"].sum())


def test_follows_the_season_a_window_average_misses():
    # History ends in late March (season about to rise): the plain 28-day mean under-forecasts
    # the next 90 days by about a third; the season-moved one stays close.
    train, test = _seasonal_panel(days=540)
    plain = LevelSeason(window=28, season=False, alias="plain").forecast(train, 90, "D")
    moved = LevelSeason(window=28, alias="moved").forecast(train, 90, "D")
    assert _bias(plain, test, "plain") < -0.2
    assert abs(_bias(moved, test, "moved")) < 0.1


def test_weekday_profile_and_shape():
    train, _ = _seasonal_panel(n=10, days=500)
    fc = LevelSeason(window=28).forecast(train, 14, "D")
    assert len(fc) == 10 * 14 and list(fc.columns) == ["unique_id", "ds", "LevelSeason"]
    assert (fc["LevelSeason"] >= 0).all()
    by_day = fc.groupby(fc["ds"].dt.dayofweek)["LevelSeason"].mean()
    assert by_day.loc[[5, 6]].mean() < 0.5 * by_day.loc[[0, 1, 2, 3, 4]].mean()


def test_series_growth_beyond_the_pool_is_followed_and_capped():
    flat, _ = _seasonal_panel(n=30, days=760, growth=0.0, seed=1)
    rising, rising_test = _seasonal_panel(n=1, days=760, growth=1.0, seed=2)
    rising = rising.assign(unique_id="riser")
    train = pd.concat([flat, rising], ignore_index=True)
    with_growth = LevelSeason(window=91, growth_prior=0.1).forecast(train, 90, "D")
    without = LevelSeason(window=91, max_growth=0.0).forecast(train, 90, "D")
    test = rising_test.assign(unique_id="riser")
    err_with = abs(_bias(with_growth, test, "LevelSeason"))
    err_without = abs(_bias(without, test, "LevelSeason"))
    assert err_with < err_without


def test_a_series_that_stopped_early_is_left_to_the_fallback():
    train, _ = _seasonal_panel(n=3, days=400)
    train = train[
        ~((train["unique_id"] == "s0") & (train["ds"] > train["ds"].max() - pd.Timedelta(days=5)))
    ]
    fc = LevelSeason().forecast(train, 7, "D")
    assert fc.loc[fc["unique_id"] == "s0", "LevelSeason"].isna().all()
    assert fc.loc[fc["unique_id"] != "s0", "LevelSeason"].notna().all()


def test_short_history_and_monthly_data_fall_back_to_the_level():
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=5, freq="MS"),
         "y": [1.0, 2.0, 3.0, 4.0, 5.0]}
    )  # fmt: skip
    fc = LevelSeason(window=3).forecast(df, 2, "M")
    assert fc["LevelSeason"].to_numpy() == pytest.approx([4.0, 4.0])
