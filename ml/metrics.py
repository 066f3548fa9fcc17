"""Scaled error metrics for demand forecasts.

RMSSE and MASE divide the forecast error by the in-sample error of the one-step naive
forecast on the series' training history (as in the M5 competition), so series of any
volume count alike. A series whose history never changes has no scale and is left out
of the averages.
"""

from __future__ import annotations

import numpy as np


def naive_scales(y: np.ndarray) -> tuple[float, float]:
    """(mean squared, mean absolute) one-step naive error of a history; NaN if none."""
    y = np.asarray(y, dtype=float)
    y = y[~np.isnan(y)]
    if y.size < 2:
        return float("nan"), float("nan")
    d = np.diff(y)
    mse, mae = float(np.mean(d**2)), float(np.mean(np.abs(d)))
    return (mse if mse > 0 else float("nan")), (mae if mae > 0 else float("nan"))


def rmsse(y: np.ndarray, f: np.ndarray, scale_mse: float) -> float:
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(f)) ** 2) / scale_mse))


def mase(y: np.ndarray, f: np.ndarray, scale_mae: float) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(f))) / scale_mae)
