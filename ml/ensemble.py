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
from typing import TYPE_CHECKING, Any, Literal

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
    shrink: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Weights per demand class (and ``all``, used for a class the backtest did not see
    or saw too little of); ``sets`` limits a class to some members.

    ``shrink`` (pseudo-series): a class's weights are pulled towards the weights learnt on
    every series, ``w = (n w_class + shrink w_all) / (n + shrink)`` with n the class's
    series, so a class seen on few series does not decide alone (members the pooled fit
    cannot use, such as a model run on one class only, keep their class weight share)."""
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
        if shrink > 0 and name != "all" and "all" in weights:
            n = float(part["unique_id"].nunique())
            pooled = np.array([weights["all"].get(m, 0.0) for m in names])
            w = (n * np.asarray(w) + shrink * pooled) / (n + shrink)
        weights[str(name)] = {m: float(x) for m, x in zip(names, w, strict=True) if x > 1e-6}
    if "all" not in weights:
        weights["all"] = {m: 1.0 / len(members) for m in members}
    return weights


def bias_factors(
    y: np.ndarray,
    yhat: np.ndarray,
    scale_mae: np.ndarray,
    demand_class: np.ndarray,
    series: np.ndarray,
    window: np.ndarray,
    *,
    shrink: float = 50.0,
    trim: float = 0.05,
    limits: tuple[float, float] = (0.67, 1.5),
) -> dict[str, float]:
    """Multiplicative bias corrections per demand class (and ``all``), kept only where
    they hold out of sample.

    Per backtest window and class: the ratio of sum(y / mae) to sum(yhat / mae) (what
    zeroes the backtest's bias, mean error over each series' naive MAE scale) over the
    series whose own bias lies within the class's ``trim`` .. 1 - ``trim`` quantiles: a
    series with almost no past demand (a naive MAE near zero) that starts consuming has a
    bias of -20 or more that no factor can fix, and would inflate every other forecast.
    The class's ratio is pulled towards the pooled one with ``shrink`` pseudo-series.
    Across windows, the factor is the one closest to 1, and 1 where the windows disagree
    on the direction: a correction that one window contradicts is not learnt."""
    ok = np.isfinite(scale_mae) & (scale_mae > 0) & np.isfinite(yhat) & np.isfinite(y)
    y, f = y[ok] / scale_mae[ok], yhat[ok] / scale_mae[ok]
    cls, ids, win = demand_class[ok], series[ok], window[ok]
    names = ["all", *sorted({str(c) for c in cls})]
    per_window: dict[str, list[float]] = {n: [] for n in names}
    for w in np.unique(win):
        rows = win == w
        keep = np.zeros(len(y), bool)
        for name in np.unique(cls[rows]):
            mask = rows & (cls == name)
            # per series (within this window and class): mean scaled error, then trim
            _, inv = np.unique(ids[mask], return_inverse=True)
            err = np.bincount(inv, f[mask] - y[mask]) / np.bincount(inv)
            lo, hi = np.quantile(err, [trim, 1 - trim])
            idx = np.flatnonzero(mask)
            keep[idx] = (err[inv] >= lo) & (err[inv] <= hi)
        pooled = _ratio(y, f, rows & keep)
        per_window["all"].append(pooled)
        for name in names[1:]:
            mask = rows & keep & (cls == name)
            n = float(len(np.unique(ids[mask])))
            per_window[name].append((n * _ratio(y, f, mask) + shrink * pooled) / (n + shrink))
    out: dict[str, float] = {}
    for name, ratios in per_window.items():
        r = np.asarray(ratios)
        held = len(r) > 0 and (bool(np.all(r >= 1)) or bool(np.all(r <= 1)))
        factor = float(r[np.argmin(np.abs(np.log(r)))]) if held else 1.0
        out[name] = float(np.clip(factor, *limits))
    return out


def _ratio(y: np.ndarray, f: np.ndarray, mask: np.ndarray) -> float:
    den = float(f[mask].sum())
    return float(y[mask].sum()) / den if den > 0 and mask.any() else 1.0


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


# Rare series' regression to the mean (issue 18): a series with k demand days in the last
# RATE_WINDOW days consumes, over the next horizon, more than its history says when k is
# small (measured on the default demo: 1.76 x for k = 1, 1.38 x for 3, 1.11 x for 9-13,
# 1.0 from about 20). Those series are chosen for having been quiet, so their history
# under-states their rate: the forecast that zeroes their bias is ratio_k x history.
RATE_WINDOW = 364
RATE_MAX_COUNT = 8


def _recent_counts(df: pd.DataFrame, cutoff: Any, window: int) -> pd.DataFrame:
    """Per series: demand days ``k`` and mean daily demand ``rate`` in the ``window`` days
    up to ``cutoff`` (days the series has rows for)."""
    import pandas as pd

    part = df[(df["ds"] <= cutoff) & (df["ds"] > cutoff - pd.Timedelta(days=window))]
    part = part[["unique_id", "y"]].assign(day=(part["y"] > 0).astype(np.int64))
    return part.groupby("unique_id", sort=True, observed=True).agg(
        k=("day", "sum"), rate=("y", "mean")
    )


def count_ratios(
    df: pd.DataFrame,
    actuals: pd.DataFrame,
    cutoffs: Sequence[Any],
    h: int,
    *,
    window: int = RATE_WINDOW,
    max_count: int = RATE_MAX_COUNT,
) -> dict[str, float]:
    """Per demand-day count k = 1 .. ``max_count`` over the last ``window`` days: the
    ratio of the next ``h`` days' demand to the history's rate, pooled over every series
    and cutoff (sum over sum, so thousands of series decide, not a few). ``actuals``:
    ``unique_id, ds, y`` with NaN on days whose demand is unknown (stockouts)."""
    import pandas as pd

    fut_sum: dict[int, float] = {}
    hist_sum: dict[int, float] = {}
    for cutoff in cutoffs:
        past = _recent_counts(df, cutoff, window)
        ahead = actuals[(actuals["ds"] > cutoff) & (actuals["ds"] <= cutoff + pd.Timedelta(days=h))]
        future = ahead.groupby("unique_id")["y"].mean()  # NaN days skipped
        data = past.join(future.rename("future"), how="inner").dropna()
        data = data[(data["k"] >= 1) & (data["k"] <= max_count)]
        sums = data.groupby("k")[["future", "rate"]].sum()
        counts = [int(k) for k in sums.index.to_numpy(dtype=np.int64)]
        for k, fut, rate in zip(counts, sums["future"], sums["rate"], strict=True):
            fut_sum[k] = fut_sum.get(k, 0.0) + float(fut)
            hist_sum[k] = hist_sum.get(k, 0.0) + float(rate)
    return {
        str(k): max(fut_sum[k] / hist_sum[k], 1.0)
        for k in sorted(fut_sum)
        if hist_sum.get(k, 0.0) > 0
    }


def rate_floor(
    history: pd.DataFrame, ratios: Mapping[str, float], *, window: int = RATE_WINDOW
) -> pd.Series:
    """Per series of ``history`` (indexed by unique_id): ratio_k x its rate over the last
    ``window`` days where its count k has a ratio, else 0 (no floor)."""
    recent = _recent_counts(history, history["ds"].max(), window)
    ratio = recent["k"].astype(str).map(dict(ratios)).fillna(0.0)
    return (ratio * recent["rate"]).rename("floor")


def apply_floor(
    yhat: np.ndarray, ids: np.ndarray, history: pd.DataFrame, ratios: Mapping[str, float]
) -> np.ndarray:
    """``yhat`` raised to each series' ``rate_floor`` where it is below it."""
    if not ratios:
        return yhat
    return np.maximum(np.asarray(yhat, dtype=float), floor_of(ids, history, ratios))


def floor_of(ids: np.ndarray, history: pd.DataFrame, ratios: Mapping[str, float]) -> np.ndarray:
    """``rate_floor`` of each id in ``ids`` (0, no floor, for a series it has none of)."""
    import pandas as pd

    floor = rate_floor(history, ratios)
    return floor.reindex(pd.Index(ids)).fillna(0.0).to_numpy(dtype=float)
