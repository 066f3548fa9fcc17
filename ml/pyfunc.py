"""The demand forecaster as an MLflow pyfunc model: what the registry stores and serves.

A module of its own (not a class made inside a function) so that the pickled model refers
to ``ml.pyfunc.ForecasterModel`` by name: the ``ml`` package is logged with the model
(``code_paths``), and a process outside this repository loads it from there. Imports
mlflow at module level: only the registry imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

if TYPE_CHECKING:
    from ml.model import DemandForecaster

HORIZON = "horizon"
# Longer than any planning horizon: a request beyond it is a mistake, not a plan.
MAX_HORIZON = 730
INPUT_COLUMNS = ("unique_id", "ds", "y")


class ForecasterModel(PythonModel):
    """Input: the long daily history ``unique_id, ds, y`` of every series to forecast.
    Params: ``horizon`` (days ahead; default the horizon it was trained for). Output: one
    row per series and day, ``unique_id, ds, step, demand_class, yhat``, the interval
    bounds ``yhat_lo_<level>``/``yhat_hi_<level>`` and ``model_name``."""

    def __init__(self, forecaster: DemandForecaster) -> None:
        self.forecaster = forecaster

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        horizon = horizon_param(params, self.forecaster.h)
        return self.forecaster.predict(history_frame(model_input), horizon)


def horizon_param(params: dict[str, Any] | None, default: int) -> int:
    """The ``horizon`` param as a whole number of days in 1..MAX_HORIZON."""
    value = (params or {}).get(HORIZON)
    if value is None:
        return int(default)
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"{HORIZON} must be a whole number of days, got {value!r}")
    horizon = int(value)
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"{HORIZON} must be between 1 and {MAX_HORIZON} days, got {horizon}")
    return horizon


def history_frame(model_input: pd.DataFrame) -> pd.DataFrame:
    """The input's ``unique_id, ds, y`` typed as the forecaster expects, sorted; a missing
    column, an empty input or a negative or non-finite demand is refused."""
    if not isinstance(model_input, pd.DataFrame):
        raise TypeError(f"the input must be a DataFrame, got {type(model_input).__name__}")
    missing = [c for c in INPUT_COLUMNS if c not in model_input.columns]
    if missing:
        raise ValueError(f"the history lacks the columns {missing} (needs unique_id, ds, y)")
    if model_input.empty:
        raise ValueError("the history is empty: nothing to forecast")
    history = pd.DataFrame(
        {
            "unique_id": model_input["unique_id"].astype(str),
            "ds": pd.to_datetime(model_input["ds"]),
            "y": pd.to_numeric(model_input["y"], errors="coerce").astype(float),
        }
    )
    if history["y"].isna().any() or (history["y"] < 0).any():
        raise ValueError("demand y must be a non-negative number on every row")
    return history.sort_values(["unique_id", "ds"], ignore_index=True)
