"""Naive baselines: last value, seasonal last value, historic and window averages, zero."""

from __future__ import annotations

import numpy as np

from ml.models.base import LocalModel, StatsforecastModel


def Naive(alias: str = "Naive") -> LocalModel:
    from statsforecast.models import Naive as _Naive

    return StatsforecastModel(_Naive(), alias)


def SeasonalNaive(season_length: int, alias: str = "SeasonalNaive") -> LocalModel:
    from statsforecast.models import SeasonalNaive as _SeasonalNaive

    return _ShortSafe(StatsforecastModel(_SeasonalNaive(season_length), alias), season_length)


def HistoricAverage(alias: str = "HistoricAverage") -> LocalModel:
    from statsforecast.models import HistoricAverage as _HistoricAverage

    return StatsforecastModel(_HistoricAverage(), alias)


def WindowAverage(window_size: int, alias: str = "WindowAverage") -> LocalModel:
    from statsforecast.models import WindowAverage as _WindowAverage

    return _ShortSafe(StatsforecastModel(_WindowAverage(window_size), alias), window_size)


class Zero(LocalModel):
    """Always zero: the baseline an intermittent-demand model must beat."""

    def __init__(self, alias: str = "Zero") -> None:
        self.alias = alias

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        return np.zeros(h)


class _ShortSafe(LocalModel):
    """A model that needs ``min_length`` points raises on a shorter series, so the
    forecaster's fallback stands in for it (and counts it) instead of garbage."""

    def __init__(self, inner: LocalModel, min_length: int) -> None:
        self.inner = inner
        self.alias = inner.alias
        self.min_length = min_length

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        if len(y) < self.min_length:
            raise ValueError(f"{self.alias} needs {self.min_length} points, got {len(y)}")
        return self.inner.forecast(y, h)
