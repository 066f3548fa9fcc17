"""A global LightGBM model over all series: lags, rolling means, calendar, exogenous.

Each series is divided by its own scale (mean demand over the history), so one model
learns the shape of demand across parts of very different volumes. Multi-step forecasts
are recursive: each step's prediction becomes the next step's lag. A Tweedie objective
suits counts with many zeros and never predicts below zero.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ml.models.base import GlobalModel, history_matrix

if TYPE_CHECKING:
    import pandas as pd

# Lags and rolling windows per frequency (periods).
DEFAULT_LAGS = {"D": (1, 2, 3, 7, 14, 28), "W": (1, 2, 3, 4, 8, 13, 52), "M": (1, 2, 3, 6, 12)}
# the feature "periods since the last demand" looks this far back
SINCE_CAP = 400
DEFAULT_WINDOWS = {"D": (7, 28, 91, 364), "W": (4, 13, 26, 52), "M": (3, 6, 12, 24)}


class LightGBMGlobal(GlobalModel):
    """Global gradient boosting; ``max_train_rows`` caps the training sample (rows are
    sampled from the most recent periods first)."""

    # Trained by `nova train` and frozen: the daily run only predicts, so its backtest
    # time (mostly training) says nothing about the daily cost.
    trained_once: ClassVar[bool] = True

    def __init__(
        self,
        *,
        lags: tuple[int, ...] | None = None,
        windows: tuple[int, ...] | None = None,
        max_train_rows: int = 1_000_000,
        train_periods: int | None = None,
        num_boost_round: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        objective: str = "tweedie",
        n_jobs: int = 2,
        seed: int = 0,
        alias: str = "LightGBM",
    ) -> None:
        self.alias = alias
        # Once frozen, forecast() reuses the booster of the last training instead of
        # training again: `nova train` freezes it, the daily run only predicts.
        self.frozen = False
        self.booster_: Any = None
        self.lags = lags
        self.windows = windows
        self.max_train_rows = max_train_rows
        self.train_periods = train_periods
        self.num_boost_round = num_boost_round
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.objective = objective
        self.n_jobs = n_jobs
        self.seed = seed

    def params(self) -> dict[str, Any]:
        return {
            "lags": self.lags,
            "windows": self.windows,
            "max_train_rows": self.max_train_rows,
            "num_boost_round": self.num_boost_round,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "objective": self.objective,
        }

    def forecast(
        self, df: pd.DataFrame, h: int, freq: str, X_future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        import lightgbm as lgb
        import pandas as pd

        key = freq if freq in DEFAULT_LAGS else "D"
        lags = self.lags or DEFAULT_LAGS[key]
        windows = self.windows or DEFAULT_WINDOWS[key]
        exog = [
            c
            for c in df.columns
            if c not in ("unique_id", "ds", "y") and pd.api.types.is_numeric_dtype(df[c])
        ]
        if X_future is None:
            exog = []
        # The dense series x period matrix on one calendar (NaN before a series starts).
        uids, m, dates, ends, t_hist = history_matrix(df, freq, extra=h)
        future = dates[t_hist:]
        if exog:
            row = pd.Index(uids).get_indexer(pd.Index(df["unique_id"]))
            col = dates.get_indexer(pd.Index(df["ds"]))
        ex = np.full((len(exog), len(uids), len(dates)), np.nan)
        for k, c in enumerate(exog):
            ex[k, row, col] = df[c].to_numpy(dtype=float)
            if X_future is not None:
                fr = pd.Index(uids).get_indexer(pd.Index(X_future["unique_id"]))
                fc = dates.get_indexer(pd.DatetimeIndex(X_future["ds"]))
                ok = (fr >= 0) & (fc >= 0)
                ex[k, fr[ok], fc[ok]] = X_future[c].to_numpy(dtype=float)[ok]
        # A series without any demand in its history has scale 0: its log-scale feature
        # is 0 (a fallback of 1 made it look like a part consuming 1 a day: 406 dead pairs
        # of the default demo were forecast about 0.7 a day each), and its forecast, z x 0,
        # is 0, as every local model's is.
        scale = np.nanmean(m[:, :t_hist], axis=1)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 0.0)
        z = m / np.where(scale > 0, scale, 1.0)[:, None]
        cal = _calendar(pd.DatetimeIndex(dates), key)

        if self.frozen and self.booster_ is not None:
            return self._predict(self.booster_, z, ex, cal, t_hist, h, lags, windows, scale,
                                 ends, uids, future)  # fmt: skip
        min_t = max(max(lags), 1)
        first = min_t if self.train_periods is None else max(min_t, t_hist - self.train_periods)
        t_all = np.arange(first, t_hist)
        rng = np.random.default_rng(self.seed)
        # Most recent periods first until the row budget is spent.
        per_t = len(uids)
        keep_t = t_all[::-1][: max(1, self.max_train_rows // max(per_t, 1))]
        xs, ys = [], []
        for t in keep_t:
            target = z[:, t]
            ok = np.isfinite(target)
            if not ok.any():
                continue
            xs.append(_features(z, ex, cal, t, lags, windows, scale)[ok])
            ys.append(target[ok])
        if not xs:
            raise ValueError("not enough history for the global model")
        x = np.vstack(xs)
        y = np.concatenate(ys)
        if len(y) > self.max_train_rows:
            pick = rng.choice(len(y), self.max_train_rows, replace=False)
            x, y = x[pick], y[pick]
        params = {
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": 50,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "num_threads": self.n_jobs,
            "seed": self.seed,
            "verbosity": -1,
        }
        booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=self.num_boost_round)
        self.booster_ = booster
        return self._predict(
            booster, z, ex, cal, t_hist, h, lags, windows, scale, ends, uids, future
        )

    def _predict(
        self,
        booster: Any,
        z: np.ndarray,
        ex: np.ndarray,
        cal: np.ndarray,
        t_hist: int,
        h: int,
        lags: tuple[int, ...],
        windows: tuple[int, ...],
        scale: np.ndarray,
        ends: np.ndarray,
        uids: np.ndarray,
        future: pd.DatetimeIndex,
    ) -> pd.DataFrame:
        """Recursive forecast; series that end before the common last date get NaN (the
        forecaster's fallback stands in for them)."""
        import pandas as pd

        rolling = _Rolling(z, t_hist)
        for step in range(h):
            t = t_hist + step
            pred = booster.predict(rolling.features(z, ex, cal, t, lags, windows, scale))
            z[:, t] = np.maximum(pred, 0.0)
            rolling.push(z[:, t])
        values = z[:, t_hist:] * scale[:, None]
        values[ends != t_hist - 1] = np.nan
        return pd.DataFrame(
            {
                "unique_id": np.repeat(uids, h),
                "ds": np.tile(np.asarray(future), len(uids)),
                self.alias: values.reshape(-1),
            }
        )


def _calendar(dates: pd.DatetimeIndex, key: str) -> np.ndarray:
    if key == "D":
        return np.stack([dates.dayofweek, dates.month, dates.dayofyear, dates.day], axis=1).astype(
            float
        )
    if key == "W":
        return np.stack([dates.isocalendar().week.to_numpy(), dates.month], axis=1).astype(float)
    return np.asarray(dates.month, dtype=float)[:, None]


def _features(
    z: np.ndarray,
    ex: np.ndarray,
    cal: np.ndarray,
    t: int,
    lags: tuple[int, ...],
    windows: tuple[int, ...],
    scale: np.ndarray,
) -> np.ndarray:
    """Features of period ``t`` from periods before it (scaled units)."""
    n = z.shape[0]
    cols = [z[:, t - k] if t - k >= 0 else np.full(n, np.nan) for k in lags]
    for w in windows:
        win = z[:, max(0, t - w) : t]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: before a start
            cols.append(np.nanmean(win, axis=1) if win.shape[1] else np.full(n, np.nan))
            cols.append((win > 0).sum(axis=1) / np.maximum(np.isfinite(win).sum(axis=1), 1))
    # periods since the last demand (capped), a strong signal for intermittent series
    hist = z[:, max(0, t - SINCE_CAP) : t] > 0
    since = np.where(hist.any(axis=1), np.argmax(hist[:, ::-1], axis=1), SINCE_CAP)
    return _with_tail(cols, since.astype(float), scale, cal, ex, t)


def _with_tail(
    cols: list[np.ndarray],
    since: np.ndarray,
    scale: np.ndarray,
    cal: np.ndarray,
    ex: np.ndarray,
    t: int,
) -> np.ndarray:
    """The feature matrix: the lag and window columns, then the periods since the last
    demand, the log scale, the calendar of period ``t`` and the exogenous columns (the
    order both feature builders share, and the booster was trained on)."""
    n = scale.shape[0]
    cols = [*cols, since, np.log1p(scale)]
    cols.extend(np.repeat(cal[t][None, :], n, axis=0).T)
    cols.extend(ex[k, :, t] for k in range(ex.shape[0]))
    return np.column_stack(cols)


class _Rolling:
    """``_features`` for the recursive forecast from running sums: each step adds one
    period instead of re-reading every window (364 periods for the yearly one) of every
    series. Counts and the periods since the last demand are exact; the window means
    differ from ``np.nanmean``'s summation order only in the last bits."""

    def __init__(self, z: np.ndarray, t_hist: int) -> None:
        n, width = z.shape
        hist = z[:, :t_hist]
        finite = np.isfinite(hist)
        self.sums = np.zeros((n, width + 1))
        self.seen = np.zeros((n, width + 1), dtype=np.int64)
        self.pos = np.zeros((n, width + 1), dtype=np.int64)
        self.sums[:, 1 : t_hist + 1] = np.cumsum(np.where(finite, hist, 0.0), axis=1)
        self.seen[:, 1 : t_hist + 1] = np.cumsum(finite, axis=1)
        self.pos[:, 1 : t_hist + 1] = np.cumsum(hist > 0, axis=1)
        recent = hist[:, max(0, t_hist - SINCE_CAP) :] > 0
        self.since = np.where(
            recent.any(axis=1), np.argmax(recent[:, ::-1], axis=1), SINCE_CAP
        ).astype(float)
        self.t = t_hist

    def push(self, values: np.ndarray) -> None:
        """Period ``t`` filled (finite forecasts); the sums move to ``t + 1``."""
        t = self.t
        self.sums[:, t + 1] = self.sums[:, t] + values
        self.seen[:, t + 1] = self.seen[:, t] + 1
        self.pos[:, t + 1] = self.pos[:, t] + (values > 0)
        self.since = np.where(values > 0, 0.0, np.minimum(self.since + 1.0, SINCE_CAP))
        self.t = t + 1

    def features(
        self,
        z: np.ndarray,
        ex: np.ndarray,
        cal: np.ndarray,
        t: int,
        lags: tuple[int, ...],
        windows: tuple[int, ...],
        scale: np.ndarray,
    ) -> np.ndarray:
        n = z.shape[0]
        cols = [z[:, t - k] if t - k >= 0 else np.full(n, np.nan) for k in lags]
        for w in windows:
            lo = max(0, t - w)
            count = self.seen[:, t] - self.seen[:, lo]
            total = self.sums[:, t] - self.sums[:, lo]
            with np.errstate(invalid="ignore", divide="ignore"):
                cols.append(np.where(count > 0, total / count, np.nan))
            cols.append((self.pos[:, t] - self.pos[:, lo]) / np.maximum(count, 1))
        return _with_tail(cols, self.since.copy(), scale, cal, ex, t)
