"""The two model interfaces of the library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class LocalModel:
    """A model fitted on one series at a time.

    ``forecast(y, h)`` gets the series' history (float array, oldest first, no gaps) and
    returns ``h`` point forecasts. ``cost`` tells the planner roughly how expensive it is
    ("cheap": milliseconds; "expensive": a tenth of a second or more per series).
    """

    alias: str
    cost: ClassVar[str] = "cheap"

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class GlobalModel:
    """A model trained across all series: ``forecast(df, h, freq)`` gets the long table
    (``unique_id, ds, y`` + exogenous columns; future exogenous rows are not needed when
    the model only uses calendar features) and returns ``unique_id, ds, <alias>``."""

    alias: str
    cost: ClassVar[str] = "cheap"

    def forecast(
        self, df: pd.DataFrame, h: int, freq: str, X_future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}


class StatsforecastModel(LocalModel):
    """Adapter of a statsforecast model (its per-series ``forecast(y, h)``)."""

    def __init__(self, model: Any, alias: str) -> None:
        self.model = model
        self.alias = alias

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        out = self.model.forecast(y=np.asarray(y, dtype=np.float64), h=h)
        return np.asarray(out["mean"], dtype=float)
