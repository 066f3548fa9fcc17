"""The vectorized cheap models equal statsforecast's per-series forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.classify import classify
from ml.forecaster import Forecaster
from ml.model import cheap_candidates, classify_frame, series_scales, series_scales_frame
from ml.models.base import LocalModel
from ml.models.vectorized import VTSB, SeriesMatrix, VCroston, vectorized

H = 6


def _hand_made() -> list[np.ndarray]:
    """Short, long, all-zero, single-point, lumpy and smooth series of unequal lengths."""
    rng = np.random.default_rng(7)
    series = [
        np.array([0.0, 3.0, 0.0, 0.0, 6.0]),
        np.array([4.0]),
        np.array([0.0, 0.0, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]),
        np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]),
        np.arange(1.0, 40.0),
    ]
    for _ in range(60):
        n = int(rng.integers(2, 400))
        p = rng.uniform(0.03, 1.0)
        series.append((rng.random(n) < p) * rng.poisson(rng.uniform(0.3, 30.0), n).astype(float))
    return series


def _per_series(model: LocalModel, y: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(model.forecast(y, H), dtype=float)
    except ValueError:  # too short for the window or season: the fallback's
        return np.full(H, np.nan)


@pytest.mark.parametrize("model", cheap_candidates(7, window=28, gbm=None)[:-1], ids=repr)
def test_vectorized_equals_statsforecast(model: LocalModel) -> None:
    series = _hand_made()
    fast = vectorized(model)
    assert fast is not None
    got = fast.forecast_matrix(SeriesMatrix.from_series(series), H)
    want = np.array([_per_series(model, y) for y in series])
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_croston_and_tsb_by_hand() -> None:
    # sizes 3, 6 -> level 3, 3, 0.1*6 + 0.9*3 = 3.3; intervals 2, 3 -> 2, 2, 2.1
    sm = SeriesMatrix.from_series([np.array([0.0, 3.0, 0.0, 0.0, 6.0]), np.array([2.0])])
    croston = VCroston().forecast_matrix(sm, 2)
    assert croston[0] == pytest.approx([3.3 / 2.1] * 2, rel=1e-12)
    assert croston[1] == pytest.approx([2.0, 2.0])  # one demand, interval 1
    sba = VCroston(factor=0.95).forecast_matrix(sm, 1)
    assert sba[0, 0] == pytest.approx(0.95 * 3.3 / 2.1, rel=1e-12)
    # occurrence 0,1,0,0,1 -> 0, 0, 0.1, 0.09, 0.081, 0.1729; size 3.3
    tsb = VTSB(0.1, 0.1).forecast_matrix(sm, 1)
    assert tsb[0, 0] == pytest.approx(0.1729 * 3.3, rel=1e-12)


def test_forecaster_vectorized_path_equals_per_series_path() -> None:
    """Through the forecaster (model sets, fallback for short series, clipping)."""
    series = _hand_made()
    frames = [
        pd.DataFrame(
            {"unique_id": f"s{i:03d}", "ds": pd.date_range("2025-01-01", periods=len(y)), "y": y}
        )
        for i, y in enumerate(series)
    ]
    df = pd.concat(frames, ignore_index=True)
    models = cheap_candidates(7, window=28, gbm=None)[:-1]
    classes = classify(df)
    sets = {"smooth": ["Naive", "WindowAverage"], "intermittent": ["Croston", "ADIDA", "IMAPA"]}
    fast = Forecaster(models, "D", model_sets=sets).forecast(df, H, classes=classes)

    class Slow(LocalModel):  # the same model hidden from the vectorized path
        def __init__(self, inner: LocalModel) -> None:
            self.inner, self.alias = inner, inner.alias

        def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
            return self.inner.forecast(y, h)

    slow_fc = Forecaster([Slow(m) for m in models], "D", model_sets=sets)
    slow = slow_fc.forecast(df, H, classes=classes)
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12)
    # the short series got the fallback in both, and were counted
    assert slow_fc.failures_["WindowAverage"] > 0


def test_classify_and_scales_frames_equal_the_per_series_ones() -> None:
    series = _hand_made()
    df = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i:03d}",
                    "ds": pd.date_range("2025-01-01", periods=len(y)),
                    "y": y,
                }
            )
            for i, y in enumerate(series)
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(classify_frame(df), classify(df), check_dtype=False, rtol=1e-12)
    pd.testing.assert_frame_equal(
        series_scales_frame(df), series_scales(df), check_dtype=False, rtol=1e-12
    )


def test_pickled_statsforecast_members_unpickle_without_statsforecast() -> None:
    """The champion's statsforecast members pickle as class name + attributes: a fresh
    process unpickles them (and finds their vectorized twins) without importing
    statsforecast, and builds the real model, forecasting as before, on first use."""
    import pickle
    import subprocess
    import sys

    from ml.models.baselines import SeasonalNaive, WindowAverage
    from ml.models.intermittent import TSB
    from ml.models.statistical import AutoETS

    models = [SeasonalNaive(7), WindowAverage(3), TSB(alpha_d=0.2, alpha_p=0.3), AutoETS(7)]
    blob = pickle.dumps(models)
    code = (
        "import pickle, sys\n"
        "from ml.models.vectorized import vectorized\n"
        "ms = pickle.loads(sys.stdin.buffer.read())\n"
        "twins = [type(vectorized(m)).__name__ for m in ms]\n"
        "from ml.forecaster import Forecaster\n"
        "from ml.models.vectorized import VNaive\n"
        "Forecaster([VNaive()], 'D')  # its default fallback: deferred\n"
        "print('statsforecast.models' in sys.modules, twins, ms[2].param('alpha_p'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=blob, capture_output=True, check=True
    ).stdout.decode()
    assert out.split("[")[0].strip() == "False"
    assert "['VSeasonalNaive', 'VWindowAverage', 'VTSB', 'NoneType']" in out
    assert out.strip().endswith("0.3")
    # on first use the real statsforecast model is rebuilt: same forecasts as the original
    y = np.array([0.0, 2.0, 1.0, 0.0, 3.0, 0.0, 1.0, 4.0, 0.0, 2.0, 1.0, 0.0, 0.0, 5.0])
    for before, after in zip(models, pickle.loads(blob), strict=True):
        np.testing.assert_array_equal(before.forecast(y, 5), after.forecast(y, 5))
    # the window of 3: the mean of the last three days, (0 + 0 + 5) / 3 (hand-computed)
    assert pickle.loads(blob)[1].forecast(y, 2).tolist() == [5 / 3, 5 / 3]
    # pickled again after use: the same form
    again = pickle.loads(pickle.dumps(pickle.loads(blob)))
    inner = again[0].inner  # type: ignore[attr-defined]
    assert inner.kind == "SeasonalNaive" and inner.param("season_length") == 7


def test_default_fallback_is_the_historic_average() -> None:
    from ml.forecaster import Forecaster, _safe_fallback
    from ml.models.vectorized import VNaive

    fallback = Forecaster([VNaive()], "D").fallback
    assert fallback.alias == "Fallback" and fallback.kind == "HistoricAverage"  # type: ignore[attr-defined]
    assert type(vectorized(fallback)).__name__ == "VHistoricAverage"
    # statsforecast's HistoricAverage, built on first use: (1 + 2 + 6) / 3
    assert _safe_fallback(fallback, np.array([1.0, 2.0, 6.0]), 2).tolist() == [3.0, 3.0]
