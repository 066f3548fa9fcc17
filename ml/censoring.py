"""Demand estimates from consumption censored by stock.

An ERP records what it issued. On a day that starts without stock nothing is issued,
whatever was asked; on a day whose stock runs out, the issue is cut at the stock. So
recorded consumption under-states demand exactly when stock was short, and estimates made
from it (forecasts, safety stocks, replays) are biased low.

Per day, with ``available`` = stock on hand at the start of the day (after the day's
receipts), the recorded quantity is:

* missing when ``available <= 0`` (a stockout day: nothing could be issued). Whether
  the day is short does not depend on that day's demand, so leaving it out biases nothing;
* right-censored when ``recorded >= available > 0`` (the stock ran out that day): demand
  was at least ``available``;
* exact otherwise.

``unconstrained_pmf`` turns that into each series' daily demand distribution with the
Kaplan-Meier estimator for right-censored data on the integers (demand is whole units),
so its mean and quantiles are the uncensored ones: the test on generated data with known
demand (tests/unit/ml/test_censoring.py) shows the mean is unbiased where the naive mean of
recorded consumption is not.

Forecasting (issue 14 item 3): ``impute_stockouts`` replaces a stockout day's recorded 0
by the series' mean over its last non-stockout days (only the past, so a backtest's
training history never sees its test window), so the models learn and forecast demand,
not what stock let through; evaluations leave stockout days out of the error (the demand
there is unknown).
"""

from __future__ import annotations

import numpy as np


def stockout_days(available: np.ndarray) -> np.ndarray:
    """True on days that started without stock (nothing could be issued)."""
    return np.asarray(available, dtype=float) <= 0


def censored_days(recorded: np.ndarray, available: np.ndarray) -> np.ndarray:
    """True on days whose stock ran out during the day (demand was at least the stock)."""
    rec = np.asarray(recorded, dtype=float)
    avail = np.asarray(available, dtype=float)
    return (avail > 0) & (rec >= avail)


def unconstrained_pmf(
    recorded: np.ndarray, available: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Daily demand distribution per series (rows), uncensored: ``pmf[i, k] = P(D_i = k)``.

    ``recorded`` and ``available`` are (series, days); ``valid`` masks the days to use
    (e.g. the trailing window from the series' first day). Recorded quantities are rounded
    to whole units. A series without any usable day gets all its mass at 0. When its
    largest observations are censored, the mass beyond them is unknown and is put on the
    largest value seen (a lower bound, as every estimate from censored data must be).
    """
    rec = np.rint(np.maximum(np.asarray(recorded, dtype=float), 0.0)).astype(np.int64)
    avail = np.asarray(available, dtype=float)
    use = ~stockout_days(avail)
    if valid is not None:
        use &= np.asarray(valid, dtype=bool)
    cens = use & censored_days(rec, avail)
    exact = use & ~cens
    n = rec.shape[0]
    k_max = int(rec[use].max()) if use.any() else 0
    size = k_max + 2
    rows = np.broadcast_to(np.arange(n)[:, None], rec.shape)
    events = np.zeros((n, size))
    np.add.at(events, (rows[exact], rec[exact]), 1.0)
    # demand >= a: known to survive every value below a
    censored_at = np.zeros((n, size))
    np.add.at(censored_at, (rows[cens], rec[cens]), 1.0)
    # at risk at k: exact observations >= k, and censored ones at a > k
    exact_ge = np.cumsum(events[:, ::-1], axis=1)[:, ::-1]
    cens_gt = np.cumsum(censored_at[:, ::-1], axis=1)[:, ::-1]
    cens_gt = np.concatenate([cens_gt[:, 1:], np.zeros((n, 1))], axis=1)
    at_risk = exact_ge + cens_gt
    hazard = np.divide(events, at_risk, out=np.zeros_like(events), where=at_risk > 0)
    survival = np.cumprod(1.0 - hazard, axis=1)  # P(D > k)
    before = np.concatenate([np.ones((n, 1)), survival[:, :-1]], axis=1)  # P(D > k - 1)
    pmf = before - survival
    # mass left after the last value seen: on that value
    seen = (events + censored_at) > 0
    last = np.where(seen.any(axis=1), size - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
    pmf[np.arange(n), last] += survival[:, -1]
    empty = ~use.any(axis=1)
    pmf[empty] = 0.0
    pmf[empty, 0] = 1.0
    return np.clip(pmf, 0.0, None)


def pmf_moments(pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each row's distribution on 0, 1, 2, ..."""
    k = np.arange(pmf.shape[1], dtype=float)
    mean = pmf @ k
    var = pmf @ (k**2) - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


# Days of recent history a stockout day's demand is estimated from.
IMPUTE_WINDOW = 56


def impute_stockouts(
    ids: np.ndarray, y: np.ndarray, out: np.ndarray, *, window: int = IMPUTE_WINDOW
) -> np.ndarray:
    """``y`` with every run of stockout days (``out``) filled with its series' demand as
    seen on the days with stock among the ``window`` rows before the run (all earlier
    such days when the window has none; nothing when there are none yet): demands of the
    mean size s at the mean rate r, placed every s / r days (``s x round`` of the running
    total, so a run of L days gets about r x L).

    Whole demands of the usual size, not r on every day: a run filled with r would give
    the series a demand every day (its ADI falls, a fractional size raises its CV2) and
    move it to another demand class. Rows are one day each, grouped by series (``ids``
    contiguous) and in date order within a series. Whether a day starts without stock
    does not depend on that day's demand, so the days with stock estimate the rate
    without bias; a cut day (stock ran out during the day) keeps its recorded value, a
    lower bound (tests/unit/ml/test_censoring.py measures what that costs). A few
    cumulative sums over the whole table: milliseconds for the daily run.
    """
    y = np.asarray(y, dtype=float)
    out = np.asarray(out, dtype=bool)
    ids = np.asarray(ids)
    n = y.size
    if n == 0 or not out.any():
        return y.copy()
    seen = ~out & np.isfinite(y)
    value = np.where(seen, y, 0.0)

    def prefix(x: np.ndarray) -> np.ndarray:  # P[k] = sum of the first k rows
        return np.concatenate([[0.0], np.cumsum(x, dtype=float)])

    total, count, demands = prefix(value), prefix(seen), prefix(seen & (value > 0))
    new = np.ones(n, bool)
    new[1:] = ids[1:] != ids[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    # each run of stockout days, read at its first day
    first = out & (new | ~np.concatenate([[False], out[:-1]]))
    i = np.flatnonzero(first)
    lo = np.maximum(start[i], i - window)
    use_window = (count[i] - count[lo]) > 0
    lo = np.where(use_window, lo, start[i])
    days = count[i] - count[lo]
    qty = total[i] - total[lo]
    hits = demands[i] - demands[lo]
    rate = np.divide(qty, days, out=np.zeros(i.size), where=days > 0)
    size = np.divide(qty, hits, out=np.zeros(i.size), where=hits > 0)
    # position of each stockout day in its run, and its run's rate and size
    run = np.cumsum(first)[out] - 1
    rows = np.flatnonzero(out)
    pos = rows - i[run]
    r, sz = rate[run], size[run]
    safe = np.where(sz > 0, sz, 1.0)
    # demands so far in the run after each day: round(r x days / s), in units of s
    after = np.floor((r * (pos + 1) + safe / 2) / safe)
    before = np.floor((r * pos + safe / 2) / safe)
    result = y.copy()
    result[rows] = np.where(sz > 0, (after - before) * sz, 0.0)
    return result
