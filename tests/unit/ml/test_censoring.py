"""Censored demand: generated data with known demand, recorded as an ERP records it."""

from __future__ import annotations

import numpy as np
import pytest

from ml.censoring import (
    censored_days,
    impute_stockouts,
    pmf_moments,
    stockout_days,
    unconstrained_pmf,
)


def _simulate(
    rng: np.random.Generator, series: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true demand, recorded consumption, stock available at the start of each day) under
    an (s, S) policy tight enough to run out often; receipts arrive before the day's demand."""
    demand = (rng.random((series, days)) < 0.4) * (1 + rng.poisson(2.0, (series, days)))
    recorded = np.zeros((series, days))
    available = np.zeros((series, days))
    on_hand = np.full(series, 6.0)
    pipeline = np.zeros((series, days + 10))
    on_order = np.zeros(series)
    for t in range(days):
        on_hand += pipeline[:, t]
        on_order -= pipeline[:, t]
        available[:, t] = on_hand
        met = np.minimum(demand[:, t], on_hand)
        recorded[:, t] = met
        on_hand -= met
        need = on_hand + on_order <= 3
        pipeline[need, t + 6] += 10 - on_hand[need] - on_order[need]
        on_order[need] = 10 - on_hand[need]
    return demand.astype(float), recorded, available


def test_estimates_from_censored_consumption_are_unbiased():
    rng = np.random.default_rng(11)
    demand, recorded, available = _simulate(rng, series=200, days=730)
    true_mean = 0.4 * 3.0  # P(demand day) x mean size (1 + Poisson(2))
    assert demand.mean() == pytest.approx(true_mean, rel=0.01)
    short = stockout_days(available).mean()
    assert short > 0.15  # the policy really runs out: a fair test of the censoring

    naive = recorded.mean()
    mean, std = pmf_moments(unconstrained_pmf(recorded, available))
    # recorded consumption is biased low; the estimate from it is not
    assert naive < 0.85 * true_mean
    assert mean.mean() == pytest.approx(true_mean, rel=0.02)
    # the spread too: var = 0.4 x E[size^2] - 1.2^2 = 0.4 x (2 + 9) - 1.44 = 2.96
    assert (std**2).mean() == pytest.approx(2.96, rel=0.04)


def test_stockout_and_censored_days_by_hand():
    recorded = np.array([[2, 0, 3, 1]])
    available = np.array([[5, 0, 3, 4]])
    assert stockout_days(available).tolist() == [[False, True, False, False]]
    assert censored_days(recorded, available).tolist() == [[False, False, True, False]]
    # exact 2 and 1, demand >= 3 once, day 2 left out: P(1) = P(2) = 1/3, the rest (>= 3)
    # sits on 3 (the largest value seen, a lower bound)
    pmf = unconstrained_pmf(recorded, available)
    assert pmf[0].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3, 0])


def _simulate_policy(
    rng: np.random.Generator, series: int, days: int, s: int, order_up_to: int, lead: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As ``_simulate`` with the (s, S) policy and lead time given."""
    demand = (rng.random((series, days)) < 0.4) * (1 + rng.poisson(2.0, (series, days)))
    recorded = np.zeros((series, days))
    available = np.zeros((series, days))
    on_hand = np.full(series, float(order_up_to))
    pipeline = np.zeros((series, days + lead + 1))
    on_order = np.zeros(series)
    for t in range(days):
        on_hand += pipeline[:, t]
        on_order -= pipeline[:, t]
        available[:, t] = on_hand
        met = np.minimum(demand[:, t], on_hand)
        recorded[:, t] = met
        on_hand -= met
        need = on_hand + on_order <= s
        pipeline[need, t + lead] += order_up_to - on_hand[need] - on_order[need]
        on_order[need] = order_up_to - on_hand[need]
    return demand.astype(float), recorded, available


def test_forecast_history_with_stockouts_imputed_is_unbiased():
    """The history the forecaster trains on (stockout days imputed from the pair's recent
    rate on days with stock) has the true demand's mean; the recorded one does not."""
    rng = np.random.default_rng(5)
    series, days = 200, 730
    demand, recorded, available = _simulate_policy(rng, series, days, 8, 30, 10)
    true_mean = demand.mean()
    out = stockout_days(available)
    assert out.mean() > 0.1  # a tenth of the days without stock
    ids = np.repeat(np.arange(series), days)
    imputed = impute_stockouts(ids, recorded.ravel(), out.ravel()).reshape(recorded.shape)
    naive_error = recorded.mean() / true_mean - 1
    imputed_error = imputed.mean() / true_mean - 1
    assert naive_error < -0.12  # as recorded: biased low by more than an eighth
    # what is left comes from the cut days (stock ran out during the day, 3% of the days),
    # kept at their recorded value, a lower bound
    assert abs(imputed_error) < 0.05
    assert abs(imputed_error) < abs(naive_error) / 4
    # on the stockout days themselves the estimate follows the demand that was lost
    assert imputed[out].mean() == pytest.approx(demand[out].mean(), rel=0.06)
    # per series too: no series' mean is pushed above its true mean by much
    per_series = imputed.mean(axis=1) / demand.mean(axis=1) - 1
    assert np.median(per_series) == pytest.approx(imputed_error, abs=0.02)


def test_impute_stockouts_by_hand():
    ids = np.array(["a"] * 6 + ["b"] * 3)
    y = np.array([2.0, 4.0, 0.0, 0.0, 6.0, 0.0, 0.0, 3.0, 0.0])
    out = np.array([False, False, True, True, False, True, True, False, True])
    got = impute_stockouts(ids, y, out, window=3)
    # a: day 2 sees days 0-1 (mean of 2 and 4: 3); day 3 sees days 0-2, day 2 out (3 again);
    # day 5 sees days 2-4, only day 4 had stock (6). b: day 0 has no past (0), day 2 sees
    # days 0-1, only day 1 had stock (3); nothing crosses from a to b
    assert got.tolist() == [2.0, 4.0, 3.0, 3.0, 6.0, 6.0, 0.0, 3.0, 3.0]
    # a run is filled from the days before it: every earlier one when its window has none
    ids = np.zeros(5, int)
    y = np.array([1.0, 3.0, 0.0, 0.0, 0.0])
    out = np.array([False, False, True, True, True])
    assert impute_stockouts(ids, y, out, window=2).tolist() == [1.0, 3.0, 2.0, 2.0, 2.0]
    # whole demands of the usual size at the usual rate: 2 units every 4 days (rate 0.5,
    # size 2) over 6 days is round(0.5 x 6 / 2) = 2 demands (days 1 and 5 of the run)
    ids = np.zeros(10, int)
    y = np.array([0.0, 2.0, 0.0, 0.0] + [0.0] * 6)
    out = np.array([False] * 4 + [True] * 6)
    got = impute_stockouts(ids, y, out, window=4)
    assert got[4:].tolist() == [0.0, 2.0, 0.0, 0.0, 0.0, 2.0]
    # nothing out: unchanged
    assert impute_stockouts(ids, y, np.zeros(5, bool)).tolist() == y.tolist()
