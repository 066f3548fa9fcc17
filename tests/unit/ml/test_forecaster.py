"""The forecaster: aliases, fallback on failing models, non-negative output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.forecaster import Forecaster
from ml.models.base import LocalModel
from ml.models.baselines import HistoricAverage, Naive


class Broken(LocalModel):
    """Fails on series whose last value is odd."""

    def __init__(self, alias: str = "Broken") -> None:
        self.alias = alias

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        if int(y[-1]) % 2:
            raise RuntimeError("boom")
        return np.full(h, -1.0)  # negative: must be clipped


def _df() -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=5, freq="D")
    return pd.DataFrame(
        {
            "unique_id": ["a"] * 5 + ["b"] * 5,
            "ds": list(ds) * 2,
            "y": [2, 2, 2, 2, 2, 1, 2, 3, 4, 5],
        }
    )


def test_duplicate_aliases_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        Forecaster([Naive(), HistoricAverage(alias="Naive")], "D")


def test_a_failing_model_falls_back_per_series_and_is_counted():
    fc = Forecaster([Broken(), Naive()], "D", fallback=HistoricAverage())
    out = fc.forecast(_df(), h=3)
    assert list(out.columns) == ["unique_id", "ds", "Broken", "Naive"]
    assert fc.failures_ == {"Broken": 1}
    a = out[out["unique_id"] == "a"]
    b = out[out["unique_id"] == "b"]
    assert a["Broken"].tolist() == [0.0, 0.0, 0.0]  # -1 clipped at zero
    assert b["Broken"].tolist() == [3.0, 3.0, 3.0]  # the fallback: b's mean
    assert b["Naive"].tolist() == [5.0, 5.0, 5.0]
    assert b["ds"].min() == pd.Timestamp("2024-01-06")


def test_parallel_workers_give_the_same_forecasts():
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=30, freq="D")
    df = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:03d}" for i in range(60)], 30),
            "ds": np.tile(ds, 60),
            "y": rng.poisson(1.0, 60 * 30).astype(float),
        }
    )
    one = Forecaster([Naive(), HistoricAverage()], "D", n_jobs=1).forecast(df, 4)
    two = Forecaster([Naive(), HistoricAverage()], "D", n_jobs=2).forecast(df, 4)
    pd.testing.assert_frame_equal(one, two)
