"""Lead-time demand of intermittent and lumpy series: an empirical (bootstrap) distribution.

A normal lead-time demand with the right mean and variance under-covers series that are
mostly zeros with occasional large issues: the normal quantile sits where the real
distribution has a gap or a long right tail. For those series the demand over the
protection period (lead time + review period) is sampled instead:

* the lead time is drawn per sample from the supplier's mean and std (whole days >= 1),
  so lead-time variability stays in;
* the number of days with demand in those days is binomial with the series' probability
  of a demand day;
* each demand day's size is drawn from the series' distribution of non-zero daily demand
  (from ``ml.censoring.unconstrained_pmf``: stockout days do not count as zero demand).

The reorder point is the smallest whole quantity whose empirical probability of covering
the lead-time demand reaches the target (``discrete_quantile``).
"""

from __future__ import annotations

import numpy as np

# Quantile table per series used to draw sizes (inverse CDF on a fixed grid).
_TABLE = 256


def discrete_quantile(values: np.ndarray, probs: np.ndarray, level: float) -> float:
    """Smallest value v with P(X <= v) >= level for a discrete distribution.

    The reorder point of a cycle service level: with stock v at the start of the lead time,
    the lead-time demand is covered with probability at least ``level``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level {level} must be in (0, 1)")
    v = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    if v.shape != p.shape or v.size == 0 or (p < 0).any():
        raise ValueError("values and probs must be non-empty arrays of one shape, probs >= 0")
    order = np.argsort(v, kind="stable")
    cdf = np.cumsum(p[order]) / p.sum()
    # a tolerance so that a cdf of exactly `level` (0.1 + 0.2 + ...) counts as reaching it
    k = int(np.searchsorted(cdf, level - 1e-12, side="left"))
    return float(v[order][min(k, v.size - 1)])


def row_quantiles(samples: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per row of ``samples`` (series x draws), ``discrete_quantile`` of its empirical
    distribution at that row's level."""
    s = np.sort(np.asarray(samples, dtype=float), axis=1)
    m = s.shape[1]
    k = np.ceil(np.asarray(levels, dtype=float) * m - 1e-9).astype(np.int64) - 1
    return s[np.arange(s.shape[0]), np.clip(k, 0, m - 1)]


def size_table(pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probability of a demand day, table of non-zero sizes drawn by uniform index)."""
    p_day = 1.0 - pmf[:, 0]
    sizes = pmf[:, 1:]
    tot = sizes.sum(axis=1, keepdims=True)
    cdf = np.cumsum(np.divide(sizes, tot, out=np.zeros_like(sizes), where=tot > 0), axis=1)
    grid = (np.arange(_TABLE) + 0.5) / _TABLE
    # value k >= 1 where the grid point falls in the cdf: per row, searchsorted(row, grid,
    # "left") = how many cdf values lie below each grid point, counted for all rows at
    # once (each cdf value lies below the grid points from searchsorted(grid, value,
    # "right") on)
    n, width = cdf.shape
    start = np.searchsorted(grid, cdf.reshape(-1), side="right").reshape(n, width)
    slot = np.repeat(np.arange(n) * (_TABLE + 1), width) + start.reshape(-1)
    below = np.bincount(slot, minlength=n * (_TABLE + 1)).reshape(n, _TABLE + 1)
    idx = np.cumsum(below, axis=1)[:, :_TABLE]
    table = np.minimum(idx, max(sizes.shape[1] - 1, 0)) + 1
    return p_day, table.astype(float)


def sample_lead_time_demand(
    pmf: np.ndarray,
    lead_mean: np.ndarray,
    lead_std: np.ndarray,
    review_days: int,
    draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws (series x draws) of demand over lead time + review period, as described above."""
    n = pmf.shape[0]
    p_day, table = size_table(pmf)
    lead = np.maximum(1, np.rint(rng.normal(lead_mean[:, None], lead_std[:, None], (n, draws))))
    days = lead.astype(np.int64) + int(review_days)
    count = rng.binomial(days, np.clip(p_day, 0.0, 1.0)[:, None])
    out = np.zeros((n, draws))
    flat, per_draw = out.reshape(-1), count.reshape(-1)
    # sizes drawn in rounds: round j adds a size to every draw with more than j demand
    # days (in row-major order); the draws still active are kept as a shrinking index
    # rather than found again in the whole (series x draws) table every round
    active = np.flatnonzero(per_draw > 0)
    j = 0
    while active.size:
        pick = rng.integers(0, _TABLE, active.size)
        flat[active] += table[active // draws, pick]
        j += 1
        active = active[per_draw[active] > j]
    return out


def fill_rate_reorder_points(
    samples: np.ndarray, order_qty: np.ndarray, fill_rate: np.ndarray
) -> np.ndarray:
    """Per row, the smallest reorder point R among the draws' values whose expected units
    short per cycle, E[(X - R)+], are at most (1 - fill rate) x the order quantity: the
    fill-rate target (the share of demand met from stock) rather than the probability of
    no stockout, which matters for lumpy series, where one large issue is most of the
    year's demand. Draws are lead-time demands (series x draws)."""
    s = np.sort(np.asarray(samples, dtype=float), axis=1)
    m = s.shape[1]
    # E[(X - s_k)+] = (sum of the draws above s_k - their count x s_k) / m
    tail = np.cumsum(s[:, ::-1], axis=1)[:, ::-1]  # sum of s_k .. s_m-1
    count = m - np.arange(m)[None, :]
    short = (tail - count * s) / m
    allowed = (1.0 - np.asarray(fill_rate, dtype=float)) * np.asarray(order_qty, dtype=float)
    ok = short <= allowed[:, None] + 1e-12
    # the expected shortage falls as R rises: the first value that meets the target
    k = np.where(ok.any(axis=1), np.argmax(ok, axis=1), m - 1)
    return s[np.arange(s.shape[0]), k]
