"""Ensemble weights learnt from backtest forecasts, per demand class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.ensemble import bias_factors, combine, fit_weights


def _backtest(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two classes: in 'smooth' model A is the truth and B is noise; in 'lumpy' B is."""
    rng = np.random.default_rng(seed)
    rows, scales, classes = [], [], []
    for i in range(40):
        uid = f"s{i}"
        cls = "smooth" if i < 20 else "lumpy"
        classes.append((uid, cls))
        truth = rng.uniform(1, 5, 6)
        good, bad = truth + rng.normal(0, 0.05, 6), rng.uniform(0, 10, 6)
        a, b = (good, bad) if cls == "smooth" else (bad, good)
        for t in range(6):
            rows.append((uid, pd.Timestamp("2024-01-01"), t + 1, truth[t], a[t], b[t]))
        scales.append((uid, pd.Timestamp("2024-01-01"), 1.0, 1.0, 1.0))
    cv = pd.DataFrame(rows, columns=["unique_id", "cutoff", "step", "y", "A", "B"])
    sc = pd.DataFrame(scales, columns=["unique_id", "cutoff", "scale_mse", "scale_mae", "level"])
    cl = pd.DataFrame(classes, columns=["unique_id", "demand_class"])
    return cv, sc, cl


@pytest.mark.parametrize("method", ["rmsse", "nnls", "inverse_rmsse"])
def test_each_class_weights_its_own_best_model(method: str):
    cv, sc, cl = _backtest()
    w = fit_weights(cv, sc, cl, ["A", "B"], method=method, top_k=1)
    assert w["smooth"].get("A", 0) > 0.8 and w["smooth"].get("B", 0) < 0.1
    assert w["lumpy"].get("B", 0) > 0.8 and w["lumpy"].get("A", 0) < 0.1
    assert "all" in w
    assert all(v >= 0 for ws in w.values() for v in ws.values())


def test_rmsse_weights_shrink_towards_zero_when_demand_may_not_come():
    # Half the windows have no demand at all, the other half demand of 4 every period; a
    # model forecasting the mean (2) is beaten in mean RMSSE by a shrunk forecast.
    rows = []
    for i in range(40):
        y = 0.0 if i % 2 else 4.0
        rows += [(f"s{i}", pd.Timestamp("2024-01-01"), t + 1, y, 2.0) for t in range(6)]
    cv = pd.DataFrame(rows, columns=["unique_id", "cutoff", "step", "y", "Mean"])
    sc = pd.DataFrame(
        {"unique_id": [f"s{i}" for i in range(40)], "cutoff": pd.Timestamp("2024-01-01"),
         "scale_mse": 1.0, "scale_mae": 1.0, "level": 1.0}
    )  # fmt: skip
    cl = pd.DataFrame({"unique_id": sc["unique_id"], "demand_class": "lumpy"})
    w = fit_weights(cv, sc, cl, ["Mean"], method="rmsse")["lumpy"]["Mean"]
    # mean over series of |y - 2w|: (|4 - 2w| + 2w) / 2 is flat on [0, 1]... with sqrt per
    # series it is the same here; any w in [0, 1] is optimal and none above 1 is.
    assert 0.0 <= w <= 1.0 + 1e-6


def test_combine_uses_the_row_class_weights_and_never_goes_negative():
    fc = pd.DataFrame({"unique_id": ["x", "x", "y"], "A": [1.0, 2.0, -5.0], "B": [3.0, 3.0, 1.0]})
    classes = pd.DataFrame({"unique_id": ["x", "y"], "demand_class": ["smooth", "rare"]})
    weights = {"smooth": {"A": 0.5, "B": 0.5}, "all": {"A": 1.0}}
    out = combine(fc, classes, weights)
    assert out.tolist() == [2.0, 2.5, 0.0]  # 'rare' has no weights: 'all' applies, clipped


def test_shrinkage_pulls_a_thin_class_towards_the_pooled_weights():
    # 'lumpy' has 20 series where B is the truth; pooled over all 40 series A and B share.
    cv, sc, cl = _backtest()
    free = fit_weights(cv, sc, cl, ["A", "B"], method="nnls")
    pulled = fit_weights(cv, sc, cl, ["A", "B"], method="nnls", shrink=20.0)
    assert free["lumpy"]["B"] > 0.8
    # n = 20 series and 20 pseudo-series: half-way to the pooled weight
    expected = (free["lumpy"]["B"] + free["all"]["B"]) / 2
    assert pulled["lumpy"]["B"] == pytest.approx(expected, rel=1e-6)
    assert pulled["all"] == free["all"]


def _biased_backtest(factors: tuple[float, float], n: int = 60) -> dict[str, np.ndarray]:
    """Forecasts that miss the truth by a known factor in each of two windows, plus one
    series whose history had almost no demand (tiny naive MAE) that starts consuming."""
    rng = np.random.default_rng(1)
    y, f, mae, cls, ids, win = [], [], [], [], [], []
    for w, factor in enumerate(factors):
        for i in range(n):
            truth = rng.uniform(1, 5, 10)
            y.append(truth)
            f.append(truth / factor)
            mae.append(np.full(10, 1.0))
            cls.append(np.full(10, "smooth"))
            ids.append(np.full(10, f"s{i}"))
            win.append(np.full(10, w))
        y.append(np.full(10, 3.0))  # the awakening series: forecast 0, scale 0.004
        f.append(np.zeros(10))
        mae.append(np.full(10, 0.004))
        cls.append(np.full(10, "smooth"))
        ids.append(np.full(10, "dead"))
        win.append(np.full(10, w))
    cat = np.concatenate
    return {
        "y": cat(y), "yhat": cat(f), "scale_mae": cat(mae), "demand_class": cat(cls),
        "series": cat(ids), "window": cat(win),
    }  # fmt: skip


def test_bias_factor_zeroes_a_bias_both_windows_show_and_ignores_awakening_series():
    b = bias_factors(**_biased_backtest((1.2, 1.3)), shrink=0.0)
    # the smaller of the two windows' corrections, not inflated by the dead series
    assert b["smooth"] == pytest.approx(1.2, rel=1e-6)
    assert b["all"] == pytest.approx(1.2, rel=1e-6)


def test_bias_factor_is_not_learnt_when_the_windows_disagree():
    b = bias_factors(**_biased_backtest((1.3, 0.8)))
    assert b == {"all": 1.0, "smooth": 1.0}


def test_count_ratios_and_the_rare_series_floor_by_hand():
    from ml.ensemble import apply_floor, count_ratios

    ds = pd.date_range("2025-01-01", periods=10, freq="D")

    def series(uid: str, y: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})

    # a window of 6 days up to the cutoff (day 6), 4 days ahead
    df = pd.concat(
        [
            # one demand day (k = 1): rate 3 / 6 = 0.5, ahead 1.0 a day
            series("a", [0, 0, 3, 0, 0, 0, 2, 2, 0, 0]),
            # k = 1 too: rate 6 / 6 = 1.0, ahead 2.0 a day (one day unknown: a stockout)
            series("b", [6, 0, 0, 0, 0, 0, 2, 2, np.nan, 2]),
            # k = 2: rate 2 / 6, ahead 0: the ratio is floored at 1 (never lowers)
            series("c", [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
            # k = 6: above max_count, no ratio
            series("d", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ],
        ignore_index=True,
    )
    ratios = count_ratios(
        df.fillna(0.0), df, [ds[5]], 4, window=6, max_count=5
    )  # (1.0 + 2.0) / (0.5 + 1.0) = 2 for k = 1
    assert ratios == pytest.approx({"1": 2.0, "2": 1.0})

    history = df[df["ds"] <= ds[5]].fillna(0.0)
    ids = np.array(["a", "b", "c", "d"])
    # a: 2 x 0.5 = 1.0 > 0.2; b: 2 x 1.0 = 2.0 < 2.5 kept; c: 1 x 1/3 > 0.1; d: no floor
    got = apply_floor(np.array([0.2, 2.5, 0.1, 0.0]), ids, history, ratios)
    # window 364 days by default: the 6 days here are all of it
    assert got == pytest.approx([1.0, 2.5, 1 / 3, 0.0])
