"""Censored demand: generated data with known demand, recorded as an ERP records it."""

from __future__ import annotations

import numpy as np
import pytest

from ml.censoring import censored_days, pmf_moments, stockout_days, unconstrained_pmf


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
