"""Prediction intervals calibrated on backtest residuals (split conformal).

The residuals y - yhat of the backtest windows, divided by each series' scale, give per
demand class and horizon bucket the empirical quantiles that bound the level's central
interval. At forecast time: lo = max(0, yhat + q_lo * scale), hi = yhat + q_hi * scale.
The scale is chosen on the backtest (see ``interval_scale``).

Demand is often exactly zero and the lower bound is clipped at zero, so the plain
alpha/2 quantiles over-cover (a zero actual inside [0, hi] is always covered). The tail
probability is therefore tuned per class and bucket (bisection) until the clipped
interval covers the nominal share of the calibration residuals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def horizon_buckets(h: int, n: int = 3) -> list[int]:
    """Upper step of each of ``n`` (at most h) buckets of the horizon."""
    n = max(1, min(n, h))
    return [round(h * (i + 1) / n) for i in range(n)]


def bucket_of(steps: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges), steps, side="left")


SCALES = ("forecast", "naive_rms")


def interval_scale(
    kind: str, *, yhat_mean: np.ndarray, scale_mse: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """Per-row scale of the residuals.

    ``forecast``: the series' mean point forecast over the horizon. It follows the level
    the models see now, so a part whose demand is fading gets narrower intervals (carparts
    is full of them). ``naive_rms``: the series' naive RMS error over its whole history
    (its mean demand where that is undefined).
    """
    if kind == "forecast":
        return np.nan_to_num(np.asarray(yhat_mean, dtype=float), nan=0.0)
    s = np.sqrt(np.asarray(scale_mse, dtype=float))
    fallback = np.nan_to_num(np.asarray(level, dtype=float), nan=0.0)
    return np.where(np.isfinite(s) & (s > 0), s, fallback)


def fit_quantiles(
    y: np.ndarray,
    f: np.ndarray,
    steps: np.ndarray,
    demand_class: np.ndarray,
    scale: np.ndarray,
    levels: Sequence[int],
    edges: Sequence[int],
) -> dict[str, dict[str, list[float]]]:
    """{class: {"<level>": [q_lo per bucket ..., q_hi per bucket ...]}} plus ``all``."""
    ok = scale > 0
    y, f, s = y[ok].astype(float), f[ok].astype(float), scale[ok]
    r = (y - f) / s
    b = bucket_of(steps[ok], edges)
    cls = demand_class[ok]
    table: dict[str, dict[str, list[float]]] = {}
    for name in ["all", *sorted(set(cls))]:
        mask = np.ones(len(r), bool) if name == "all" else cls == name
        entry: dict[str, list[float]] = {}
        for level in levels:
            lo, hi = [], []
            for k in range(len(edges)):
                rows = mask & (b == k)
                if rows.sum() < 20:  # too few residuals: use the class's whole horizon
                    rows = mask
                if rows.sum() == 0:
                    rows = np.ones(len(r), bool)
                q_lo, q_hi = _calibrated(r[rows], y[rows], f[rows], s[rows], level / 100)
                lo.append(q_lo)
                hi.append(q_hi)
            entry[str(level)] = lo + hi
        table[name] = entry
    return table


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    return float(np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)))


def _calibrated(
    r: np.ndarray, y: np.ndarray, f: np.ndarray, s: np.ndarray, level: float
) -> tuple[float, float]:
    """Residual quantiles (p, 1 - p) with p chosen so the zero-clipped interval covers
    ``level`` of the calibration points (never wider than the plain alpha/2 quantiles)."""

    def coverage_at(p: float) -> tuple[float, float, float]:
        q_lo, q_hi = np.quantile(r, [p, 1 - p])
        lo = np.maximum(f + q_lo * s, 0.0)
        hi = np.maximum(f + q_hi * s, lo)
        return coverage(y, lo, hi), float(q_lo), float(q_hi)

    a, b = (1 - level) / 2, 0.5
    best = coverage_at(a)
    if best[0] <= level:
        return best[1], best[2]
    for _ in range(25):  # coverage falls as p grows: bisect on p
        mid = (a + b) / 2
        cov = coverage_at(mid)
        if cov[0] >= level:
            a, best = mid, cov
        else:
            b = mid
    return best[1], best[2]


def apply_intervals(
    yhat: np.ndarray,
    steps: np.ndarray,
    demand_class: np.ndarray,
    scale: np.ndarray,
    table: dict[str, dict[str, list[float]]],
    levels: Sequence[int],
    edges: Sequence[int],
) -> dict[str, np.ndarray]:
    """``lo-<level>`` and ``hi-<level>`` arrays for each row."""
    b = np.minimum(bucket_of(steps, edges), len(edges) - 1)
    out: dict[str, np.ndarray] = {}
    n = len(edges)
    for level in levels:
        q_lo = np.zeros(len(yhat))
        q_hi = np.zeros(len(yhat))
        for name in np.unique(demand_class):
            rows = demand_class == name
            q = np.asarray(table.get(str(name), table["all"])[str(level)])
            q_lo[rows] = q[:n][b[rows]]
            q_hi[rows] = q[n:][b[rows]]
        out[f"lo-{level}"] = np.maximum(yhat + q_lo * scale, 0.0)
        out[f"hi-{level}"] = np.maximum(yhat + q_hi * scale, out[f"lo-{level}"])
    return out
