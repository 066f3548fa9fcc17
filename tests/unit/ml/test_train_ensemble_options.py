"""train_ensemble's daily options: members below a minimum weight dropped, the rare
series' floor carried into the model and applied at prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.model import train_ensemble
from ml.models.baselines import HistoricAverage, Naive, WindowAverage


def _df() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ds = pd.date_range("2025-01-01", periods=120, freq="D")
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.poisson(3.0, ds.size) * 1.0})
        for i in range(12)
    ]
    # a rare series: one demand of 4 units, 100 days before the end
    rare = np.zeros(ds.size)
    rare[20] = 4.0
    frames.append(pd.DataFrame({"unique_id": "rare", "ds": ds, "y": rare}))
    return pd.concat(frames, ignore_index=True)


def test_min_weight_drops_members_and_the_floor_lifts_rare_series():
    df = _df()
    kwargs = {"freq": "D", "h": 7, "n_windows": 2, "n_jobs": 1}
    members = [HistoricAverage(), Naive(), WindowAverage(7)]
    plain = train_ensemble(df, candidates=members, **kwargs)
    # the smooth class: HistoricAverage about 0.71, WindowAverage about 0.24
    smooth = plain.model.weights["smooth"]
    assert 0.05 < min(smooth.values()) < 0.5 < max(smooth.values())
    threshold = 0.5
    result = train_ensemble(
        df,
        candidates=members,
        min_weight=threshold,
        rate_ratios={"1": 2.0},
        **kwargs,
    )
    model = result.model
    assert list(model.weights["smooth"]) == [max(smooth, key=lambda a: smooth[a])]
    assert all(w >= threshold for w in model.weights["smooth"].values())
    assert model.rate_ratios == {"1": 2.0}
    fc = model.predict(df, 7, n_jobs=1)
    # the rare series: 1 demand day in its last 364 days (here 120), rate 4 / 120, x 2
    rare = fc[fc["unique_id"] == "rare"]["yhat"].to_numpy()
    assert rare == pytest_approx(np.full(7, 2 * 4 / 120))


def pytest_approx(x: np.ndarray) -> object:
    import pytest

    return pytest.approx(x, rel=1e-9)


def test_the_budget_keeps_members_forecast_from_fitted_state():
    """A tiny budget drops the members the daily run fits (Naive, WindowAverage), never
    ETS, the costliest in the backtest: the daily run forwards its fitted state instead."""
    from ml.models.statistical import AutoETS

    rng = np.random.default_rng(3)
    ds = pd.date_range("2025-01-01", periods=120, freq="D")
    growing = 3.0 + 0.05 * np.arange(ds.size)  # a trend that ETS follows
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.poisson(growing) * 1.0})
            for i in range(12)
        ],
        ignore_index=True,
    )
    result = train_ensemble(
        df,
        freq="D",
        h=7,
        n_windows=2,
        n_jobs=1,
        candidates=[Naive(), WindowAverage(7), AutoETS(1)],
        budget_seconds=1e-12,
    )
    assert sorted(result.model.info["dropped_for_budget"]) == [
        "Naive@smooth",
        "WindowAverage@smooth",
    ]
    assert list(result.model.weights["smooth"]) == ["ETS"]


def test_the_budget_leaves_a_class_its_last_member():
    """However small the budget, a class keeps one member (it had none, and no forecast,
    once every member was dropped)."""
    result = train_ensemble(
        _df(),
        freq="D",
        h=7,
        n_windows=2,
        n_jobs=1,
        candidates=[HistoricAverage(), WindowAverage(7)],
        budget_seconds=1e-12,
    )
    assert len(result.model.info["dropped_for_budget"]) == 1
    assert len(result.model.weights["smooth"]) == 1
