"""A level-following model that costs microseconds per series: recent level x pooled yearly
season x weekday profile x the series' own growth (damped, shrunk to the pool).

Windowed averages lag a level that moves: they forecast the last ``window`` periods' mean
for the whole horizon, so a part whose demand rises with the rainy season or with new
towers is under-forecast, and one whose season is ending is over-forecast. This model
keeps the window average's low variance and moves it along:

* ``season``: the yearly curve of demand pooled over every series of the call (each
  divided by its own mean, then averaged per period and smoothed over ``smooth`` periods),
  read one year back: the ratio of the curve at the target period to its mean over the
  base window. Pooling gives a curve to intermittent series and to new ones too.
* ``weekday`` (daily data): the pooled share of each weekday over the last year.
* ``growth``: each series' year-over-year log growth of its last ``growth_window``
  periods, shrunk towards no excess over the pool with ``growth_prior`` pseudo-periods of
  the series' mean, minus the pool's growth (already inside the season ratio), clipped,
  and applied from the middle of the base window to the target period.

Everything is computed on the series x period matrix at once (numpy), so the daily run
pays milliseconds for the whole population.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.models.base import GlobalModel, history_matrix

if TYPE_CHECKING:
    import pandas as pd

# One year in periods, and a window of the same weekday alignment for daily data (52 weeks).
YEAR = {"D": 364, "W": 52, "M": 12}


class LevelSeason(GlobalModel):
    """Recent ``window``-period mean x pooled yearly season x weekday x damped growth."""

    def __init__(
        self,
        *,
        window: int = 28,
        smooth: int | None = None,
        growth_window: int | None = None,
        growth_prior: float = 1.0,
        max_growth: float = 1.0,
        season: bool = True,
        alias: str = "LevelSeason",
    ) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.alias = alias
        self.window = window
        self.smooth = smooth
        self.growth_window = growth_window
        self.growth_prior = growth_prior
        self.max_growth = max_growth
        self.season = season

    def params(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "smooth": self.smooth,
            "growth_window": self.growth_window,
            "growth_prior": self.growth_prior,
            "max_growth": self.max_growth,
            "season": self.season,
        }

    def forecast(
        self, df: pd.DataFrame, h: int, freq: str, X_future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        import pandas as pd

        key = freq if freq in YEAR else "D"
        year = YEAR[key]
        uids, m, dates, ends, t_hist = history_matrix(df, freq, extra=h)
        future = dates[t_hist:]
        m = m[:, :t_hist]
        values = self.predict_matrix(m, h, year, key, pd.DatetimeIndex(dates))
        values[ends != t_hist - 1] = np.nan  # a series that stopped early: the fallback's
        return pd.DataFrame(
            {
                "unique_id": np.repeat(uids, h),
                "ds": np.tile(np.asarray(future), len(uids)),
                self.alias: values.reshape(-1),
            }
        )

    def predict_matrix(
        self, m: np.ndarray, h: int, year: int, key: str, dates: pd.DatetimeIndex
    ) -> np.ndarray:
        """Forecasts (series x h) from the history matrix ``m`` (NaN before a start)."""
        n, t_hist = m.shape
        w = min(self.window, t_hist)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: not started
            level = np.nan_to_num(np.nanmean(m[:, t_hist - w :], axis=1), nan=0.0)
            mean = np.nanmean(m, axis=1)
        mean = np.where(np.isfinite(mean) & (mean > 0), mean, 0.0)
        steps = np.arange(1, h + 1)
        factor = np.ones((n, h))
        if self.season:
            factor *= self._season(m, mean, h, w, year, key, dates)[None, :]
        factor *= np.exp(self._excess_growth(m, mean, year)[:, None] * (steps + w / 2)[None, :])
        return np.maximum(level[:, None] * factor, 0.0)

    def _pooled_curve(self, m: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """Mean over series of demand / series mean, per period (NaN where none)."""
        live = mean > 0
        z = m[live] / mean[live, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanmean(z, axis=0)) if live.any() else np.full(m.shape[1], np.nan)

    def _season(
        self,
        m: np.ndarray,
        mean: np.ndarray,
        h: int,
        w: int,
        year: int,
        key: str,
        dates: pd.DatetimeIndex,
    ) -> np.ndarray:
        """Per horizon step: the pooled yearly ratio x weekday share (1 where unknown)."""
        t_hist = m.shape[1]
        g = self._pooled_curve(m, mean)
        out = np.ones(h)
        smooth = self.smooth or {"D": 29, "W": 5, "M": 1}[key]
        curve = _moving_mean(g, smooth)
        base = curve[max(0, t_hist - w - year) : max(0, t_hist - year)]
        base_mean = float(np.nanmean(base)) if np.isfinite(base).any() else float("nan")
        if np.isfinite(base_mean) and base_mean > 0:
            idx = t_hist + np.arange(h) - year  # the target period one year back
            ok = (idx >= 0) & (idx < t_hist)
            ratio = np.ones(h)
            ratio[ok] = curve[idx[ok]] / base_mean
            out = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
        if key == "D":
            last_year = slice(max(0, t_hist - year), t_hist)
            dow = dates[:t_hist][last_year].dayofweek.to_numpy()
            gy = g[last_year]
            ok = np.isfinite(gy)
            if ok.sum() >= 28:
                share = np.bincount(dow[ok], gy[ok], minlength=7) / np.maximum(
                    np.bincount(dow[ok], minlength=7), 1
                )
                share = share / share.mean() if share.mean() > 0 else np.ones(7)
                out = out * share[dates[t_hist:].dayofweek.to_numpy()]
        return out

    def _excess_growth(self, m: np.ndarray, mean: np.ndarray, year: int) -> np.ndarray:
        """Per series: log growth per period beyond the pool's, shrunk and clipped; 0 for a
        series without a full year-ago window."""
        n, t_hist = m.shape
        gw = self.growth_window or max(1, year // 4)
        if t_hist < year + gw:
            return np.zeros(n)
        recent = m[:, t_hist - gw :]
        before = m[:, t_hist - year - gw : t_hist - year]
        full = np.isfinite(before).all(axis=1) & np.isfinite(recent).all(axis=1)
        prior = self.growth_prior * gw * mean
        r = np.nansum(recent, axis=1)
        b = np.nansum(before, axis=1)
        live = full & (mean > 0)
        if not live.any():
            return np.zeros(n)
        rate = np.zeros(n)
        rate[live] = np.log((r[live] + prior[live]) / (b[live] + prior[live])) / year
        # the pool's growth is already in the season ratio (last year's curve)
        pool = float(np.log(max(r[live].sum(), 1e-9) / max(b[live].sum(), 1e-9)) / year)
        cap = np.log1p(self.max_growth) / year
        return np.clip(np.where(live, rate - pool, 0.0), -cap, cap)


def _moving_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Centred moving mean over ``k`` periods ignoring NaN (shorter at the edges)."""
    if k <= 1:
        return x.copy()
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    kernel = np.ones(k)
    s = np.convolve(v, kernel, mode="same")
    c = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / c, np.nan)
