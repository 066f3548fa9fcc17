"""ARIMA, ETS and Theta (statsforecast's automatic model selection per series)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ml.models.base import LocalModel, StatsforecastModel


class _Expensive(StatsforecastModel):
    cost: ClassVar[str] = "expensive"

    def __init__(self, model: object, alias: str, season_length: int) -> None:
        super().__init__(model, alias)
        self.season_length = season_length

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        # A seasonal model needs two full seasons; below that the forecaster's fallback
        # stands in (and the failure is counted).
        if self.season_length > 1 and len(y) < 2 * self.season_length:
            raise ValueError(f"{self.alias}: {len(y)} points < two seasons")
        return super().forecast(y, h)


def AutoETS(season_length: int = 1, alias: str = "ETS") -> LocalModel:
    from statsforecast.models import AutoETS as _AutoETS

    return _Expensive(_AutoETS(season_length=season_length), alias, season_length)


def AutoARIMA(season_length: int = 1, alias: str = "ARIMA") -> LocalModel:
    from statsforecast.models import AutoARIMA as _AutoARIMA

    return _Expensive(_AutoARIMA(season_length=season_length), alias, season_length)


def AutoTheta(season_length: int = 1, alias: str = "Theta") -> LocalModel:
    from statsforecast.models import AutoTheta as _AutoTheta

    return _Expensive(_AutoTheta(season_length=season_length), alias, season_length)
