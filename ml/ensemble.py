"""Ensemble weights learnt from backtest forecasts, per demand class.

``rmsse`` (default): the non-negative weights that minimise the backtest's mean RMSSE
(each series' root mean squared error over its naive scale, averaged over series and
windows), the metric we are judged on. It is convex in the weights. Because the square
root is taken per series, the optimum shrinks forecasts of intermittent series towards
zero where their demand may not come at all; the weights need not sum to one.
``nnls``: non-negative least squares of the actuals on the members' forecasts, each row
divided by its series' naive RMS scale so every series weighs alike (the loss RMSSE
averages); the weights are not forced to sum to one, which lets the ensemble shrink
forecasts that the backtest shows to be biased. ``inverse_rmsse``: weights proportional
to 1 / RMSSE of the ``top_k`` best members. Either way, weights are non-negative and the
combination of non-negative forecasts is non-negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Method = Literal["rmsse", "nnls", "inverse_rmsse"]


def fit_weights(
    cv: pd.DataFrame,
    scales: pd.DataFrame,
    classes: pd.DataFrame,
    members: Sequence[str],
    *,
    method: Method = "nnls",
    top_k: int = 3,
    min_rows: int = 30,
    sets: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, dict[str, float]]:
    """Weights per demand class (and ``all``, used for a class the backtest did not see
    or saw too little of); ``sets`` limits a class to some members."""
    from scipy.optimize import nnls

    from ml.backtest import series_scores

    data = cv.merge(scales, on=["unique_id", "cutoff"]).merge(
        classes[["unique_id", "demand_class"]], on="unique_id"
    )
    data = data[np.isfinite(data["scale_mse"])]
    weights: dict[str, dict[str, float]] = {}
    groups = [("all", data), *data.groupby("demand_class")]
    for name, part in groups:
        if len(part) < min_rows:
            continue
        names = list((sets or {}).get(str(name), members))
        if name == "all" and sets:
            names = [m for m in members if all(m in v for v in sets.values())] or names
        if method == "rmsse":
            w = _min_mean_rmsse(part, names)
        elif method == "nnls":
            s = np.sqrt(part["scale_mse"].to_numpy())[:, None]
            a = part[names].to_numpy(dtype=float) / s
            b = part["y"].to_numpy(dtype=float) / s[:, 0]
            w, _ = nnls(a, b)
        else:
            scores = series_scores(part, scales, names)
            mean = scores.groupby("model")["rmsse"].mean().reindex(names)
            best = mean.nsmallest(top_k)
            w = np.zeros(len(names))
            for alias, value in best.items():
                w[names.index(str(alias))] = 1.0 / max(value, 1e-9)
            w = w / w.sum()
        weights[str(name)] = {m: float(x) for m, x in zip(names, w, strict=True) if x > 1e-6}
    if "all" not in weights:
        weights["all"] = {m: 1.0 / len(members) for m in members}
    return weights


def combine(
    forecasts: pd.DataFrame, classes: pd.DataFrame, weights: dict[str, dict[str, float]]
) -> np.ndarray:
    """The weighted combination for each row of a wide forecast frame, using the weights
    of the row's series' demand class; clipped at zero."""
    cls = forecasts[["unique_id"]].merge(
        classes[["unique_id", "demand_class"]], on="unique_id", how="left"
    )["demand_class"]
    out = np.zeros(len(forecasts))
    for name in cls.unique():
        rows = (cls == name).to_numpy()
        w = weights.get(str(name), weights["all"])
        for alias, weight in w.items():
            out[rows] += weight * forecasts.loc[rows, alias].to_numpy(dtype=float)
    return np.maximum(out, 0.0)


def _min_mean_rmsse(part: pd.DataFrame, names: list[str]) -> np.ndarray:
    """argmin over w >= 0 of mean over (series, window) of RMSSE(y, F w)."""
    from scipy.optimize import minimize

    f = part[names].to_numpy(dtype=float)
    y = part["y"].to_numpy(dtype=float)
    groups = part.groupby(["unique_id", "cutoff"], sort=False).ngroup().to_numpy()
    n_groups = groups.max() + 1
    count = np.bincount(groups, minlength=n_groups).astype(float)
    scale = np.zeros(n_groups)
    scale[groups] = part["scale_mse"].to_numpy(dtype=float)
    denom = count * scale

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        r = y - f @ w
        msse = np.bincount(groups, r**2, minlength=n_groups) / denom
        root = np.sqrt(msse + 1e-12)
        # d root_g / d w = -(1 / root_g) * sum_t r_t f_t / denom_g
        coef = -(1.0 / root)[groups] * r / denom[groups]
        return float(root.mean()), (f.T @ coef) / n_groups

    live = np.abs(f).sum(axis=0) > 0  # an all-zero member (the Zero model) adds nothing
    start = np.where(live, 1.0 / max(live.sum(), 1), 0.0)
    bounds = [(0.0, None) if ok else (0.0, 0.0) for ok in live]
    res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.asarray(res.x)
