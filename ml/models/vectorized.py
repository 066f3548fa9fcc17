"""The cheap local models computed for every series at once (numpy over series x time).

Calling statsforecast once per series and model costs tens of microseconds of Python per
call: 12,758 series x 10 models is most of a daily run. The same recursions written over
a right-aligned series x time matrix (``SeriesMatrix``: row i holds series i's history in
its last ``lengths[i]`` columns, NaN before) cost a few hundred numpy operations per model
for the whole population, and give statsforecast's forecasts (same operations in the same
order, so equal to the last bit or within 1e-12; the tests check against statsforecast):

* Naive, SeasonalNaive, HistoricAverage, WindowAverage, Zero;
* CrostonClassic, CrostonSBA, TSB (simple exponential smoothing of the demand sizes,
  intervals and occurrence, with statsforecast's initialisation);
* ADIDA and IMAPA: the mean demand interval of every series at once, then per series
  statsforecast's compiled chunk forecast (its smoothing constant is optimised per
  series by a golden-section search; calling the compiled routine directly skips the
  Python around it and keeps the daily forecast equal to a full refit).

A row the model cannot forecast (too short for the window or the season) comes back NaN;
the forecaster's fallback stands in there, as it does for a per-series failure.
``vectorized(model)`` maps a local model (ours or one pickled by an older version) to its
vectorized twin, or None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.models.base import LocalModel


@dataclass
class SeriesMatrix:
    """Right-aligned histories: ``values[i, T - lengths[i]:]`` is series i, NaN before."""

    values: np.ndarray
    lengths: np.ndarray

    @classmethod
    def from_series(cls, series: Sequence[np.ndarray]) -> SeriesMatrix:
        lengths = np.fromiter((len(s) for s in series), dtype=np.int64, count=len(series))
        width = int(lengths.max()) if len(series) else 0
        values = np.full((len(series), width), np.nan)
        if len(series) and width:
            # one slice copy per series: scattering the 9M values of the daily run by
            # (row, column) index arrays cost several times more
            for i, s in enumerate(series):
                if lengths[i]:
                    values[i, width - lengths[i] :] = np.asarray(s, dtype=float)
        return cls(values, lengths)

    @property
    def width(self) -> int:
        return int(self.values.shape[1])

    def take(self, rows: np.ndarray) -> SeriesMatrix:
        """The sub-matrix of ``rows``, trimmed to its longest series."""
        lengths = self.lengths[rows]
        width = int(lengths.max()) if len(lengths) else 0
        return SeriesMatrix(self.values[rows][:, self.width - width :], lengths)


def ses(x: np.ndarray, include: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Simple exponential smoothing of each row's included values (oldest first), as
    statsforecast's ``ses_forecast``: the level starts at the first value, every value
    (the first too) then updates it, and a single value is its own forecast. Returns the
    one-step forecast per row (NaN without values) and the number of values."""
    n = x.shape[0]
    level = np.full(n, np.nan)
    first = np.full(n, np.nan)
    count = np.zeros(n, dtype=np.int64)
    complement = 1.0 - alpha
    for t in range(x.shape[1]):
        m = include[:, t]
        v = x[:, t]
        new = m & (count == 0)
        level = np.where(new, v, level)
        first = np.where(new, v, first)
        level = np.where(m, alpha * v + complement * level, level)
        count += m
    return np.where(count == 1, first, level), count


def chunk_forecast(sm: SeriesMatrix, level: int) -> np.ndarray:
    """statsforecast's ``chunk_forecast(y, level)`` per row (the optimised SES forecast of
    the sums of consecutive ``level``-period chunks, the oldest remainder dropped). The
    golden-section search of the smoothing constant is statsforecast's own compiled
    routine, called on each row's values, so the result is the refit's to the bit."""
    from statsforecast._lib import ses as _ses_lib

    width = sm.width
    out = np.empty(len(sm.lengths))
    for i, n in enumerate(sm.lengths):
        out[i] = _ses_lib.chunk_forecast(sm.values[i, width - n :], level)
    return out


def _intervals(sm: SeriesMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the demand intervals' sum (= position of the last demand + 1, counted from
    the series' start) and the number of demands."""
    nonzero = np.nan_to_num(sm.values, nan=0.0) != 0
    count = nonzero.sum(axis=1)
    last = sm.width - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    total = (last - (sm.width - sm.lengths) + 1).astype(float)
    return np.where(count > 0, total, 0.0), count


class VectorizedModel(LocalModel):
    """A local model computed over a ``SeriesMatrix``: ``forecast_matrix`` returns
    (series x h) forecasts, NaN rows where the model does not apply."""

    alias: str

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        raise NotImplementedError

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        """One series (the per-series interface of local models)."""
        return self.forecast_matrix(SeriesMatrix.from_series([np.asarray(y, float)]), h)[0]


def _flat(values: np.ndarray, h: int) -> np.ndarray:
    return np.repeat(values[:, None], h, axis=1)


class VNaive(VectorizedModel):
    def __init__(self, alias: str = "Naive") -> None:
        self.alias = alias

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        return _flat(sm.values[:, -1], h)


class VSeasonalNaive(VectorizedModel):
    """The last season repeated; NaN for a series shorter than a season."""

    def __init__(self, season_length: int, alias: str = "SeasonalNaive") -> None:
        self.alias = alias
        self.season_length = season_length

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        s = self.season_length
        if sm.width < s:
            return np.full((len(sm.lengths), h), np.nan)
        season = sm.values[:, sm.width - s :]
        out = np.tile(season, (1, math.ceil(h / s)))[:, :h].copy()
        out[sm.lengths < s] = np.nan
        return out


class VHistoricAverage(VectorizedModel):
    def __init__(self, alias: str = "HistoricAverage") -> None:
        self.alias = alias

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(sm.values, axis=1) / sm.lengths
        return _flat(mean, h)


class VWindowAverage(VectorizedModel):
    """The mean of the last ``window_size`` periods; NaN for a shorter series."""

    def __init__(self, window_size: int, alias: str = "WindowAverage") -> None:
        self.alias = alias
        self.window_size = window_size

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        w = self.window_size
        if sm.width < w:
            return np.full((len(sm.lengths), h), np.nan)
        mean = sm.values[:, sm.width - w :].mean(axis=1)
        mean[sm.lengths < w] = np.nan
        return _flat(mean, h)


class VZero(VectorizedModel):
    def __init__(self, alias: str = "Zero") -> None:
        self.alias = alias

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        return np.zeros((len(sm.lengths), h))


class VCroston(VectorizedModel):
    """Croston's method (``factor`` 0.95: the Syntetos-Boylan approximation)."""

    def __init__(self, alias: str = "Croston", factor: float | None = None) -> None:
        self.alias = alias
        self.factor = factor

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        x = sm.values
        demand = np.nan_to_num(x, nan=0.0) > 0
        size, count = ses(x, demand, 0.1)
        # interval before each demand, counted from the series' start
        width = x.shape[1]
        gaps = np.full_like(x, np.nan)
        last = (width - sm.lengths - 1).astype(float)
        for t in range(width):
            m = demand[:, t]
            gaps[:, t] = t - last
            last = np.where(m, float(t), last)
        interval, _ = ses(gaps, demand, 0.1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(interval != 0.0, size / interval, size)
        if self.factor is not None:
            mean = mean * self.factor
        # no demand at all: statsforecast falls back to the naive forecast
        mean = np.where(count == 0, x[:, -1], mean)
        return _flat(mean, h)


class VTSB(VectorizedModel):
    def __init__(self, alpha_d: float, alpha_p: float, alias: str = "TSB") -> None:
        self.alias = alias
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        x = sm.values
        seen = np.isfinite(x)
        demand = np.nan_to_num(x, nan=0.0) > 0
        occurrence = np.where(seen, (x != 0).astype(float), np.nan)
        p, _ = ses(occurrence, seen, self.alpha_p)
        size, count = ses(x, demand, self.alpha_d)
        mean = np.where(count == 0, 0.0, p * size)
        return _flat(mean, h)


class VADIDA(VectorizedModel):
    """ADIDA: chunks of the mean demand interval, optimised SES, split evenly."""

    def __init__(self, alias: str = "ADIDA") -> None:
        self.alias = alias

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        total, count = _intervals(sm)
        mean = np.zeros(len(count))
        live = count > 0
        level = np.zeros(len(count), dtype=np.int64)
        level[live] = np.round(total[live] / count[live]).astype(np.int64)
        for agg in np.unique(level[live]):
            rows = np.flatnonzero(live & (level == agg))
            mean[rows] = chunk_forecast(sm.take(rows), int(agg)) / agg
        return _flat(mean, h)


class VIMAPA(VectorizedModel):
    """IMAPA: ADIDA's forecast averaged over every chunk size up to the mean interval."""

    def __init__(self, alias: str = "IMAPA") -> None:
        self.alias = alias

    def forecast_matrix(self, sm: SeriesMatrix, h: int) -> np.ndarray:
        total, count = _intervals(sm)
        live = count > 0
        top = np.zeros(len(count), dtype=np.int64)
        top[live] = np.round(total[live] / count[live]).astype(np.int64)
        levels = int(top.max()) if live.any() else 0
        parts = np.full((len(count), max(levels, 1)), np.nan)
        for agg in range(1, levels + 1):
            rows = np.flatnonzero(live & (top >= agg))
            parts[rows, agg - 1] = chunk_forecast(sm.take(rows), agg) / agg
        mean = np.zeros(len(count))
        for k in np.unique(top[live]):  # numpy's mean over the same k values per row
            rows = np.flatnonzero(live & (top == k))
            mean[rows] = parts[rows, :k].mean(axis=1)
        return _flat(mean, h)


def vectorized(model: Any) -> VectorizedModel | None:
    """The vectorized twin of a local model (ours, or one unpickled from an older
    registered version: a statsforecast model in our adapter), or None."""
    from ml.models.base import StatsforecastModel
    from ml.models.baselines import Zero, _ShortSafe

    if isinstance(model, VectorizedModel):
        return model
    if isinstance(model, Zero):
        return VZero(model.alias)
    if isinstance(model, _ShortSafe):
        return vectorized(model.inner)
    if not isinstance(model, StatsforecastModel):
        return None
    # kind and parameters only: building the statsforecast model imports statsforecast
    alias, kind, param = model.alias, model.kind, model.param
    if kind == "Naive":
        return VNaive(alias)
    if kind == "SeasonalNaive":
        return VSeasonalNaive(int(param("season_length")), alias)
    if kind == "HistoricAverage":
        return VHistoricAverage(alias)
    if kind == "WindowAverage":
        return VWindowAverage(int(param("window_size")), alias)
    if kind == "CrostonClassic":
        return VCroston(alias)
    if kind == "CrostonSBA":
        return VCroston(alias, factor=0.95)
    if kind == "TSB":
        return VTSB(float(param("alpha_d")), float(param("alpha_p")), alias)
    if kind == "ADIDA":
        return VADIDA(alias)
    if kind == "IMAPA":
        return VIMAPA(alias)
    return None
