"""Empirical lead-time demand and its quantile reorder point, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ml.lead_time_demand import (
    discrete_quantile,
    row_quantiles,
    sample_lead_time_demand,
    size_table,
)


def test_quantile_reorder_point_of_a_known_discrete_distribution():
    # P(0) = 0.5, P(1) = 0.2, P(2) = 0.2, P(3) = 0.1: cdf 0.5, 0.7, 0.9, 1.0
    values, probs = np.array([3, 0, 2, 1]), np.array([0.1, 0.5, 0.2, 0.2])
    assert discrete_quantile(values, probs, 0.5) == 0
    assert discrete_quantile(values, probs, 0.7) == 1  # exactly reached counts
    assert discrete_quantile(values, probs, 0.75) == 2
    assert discrete_quantile(values, probs, 0.9) == 2
    assert discrete_quantile(values, probs, 0.95) == 3
    with pytest.raises(ValueError):
        discrete_quantile(values, probs, 1.0)


def test_row_quantiles_match_the_discrete_quantile_of_the_draws():
    draws = np.array([[0, 0, 0, 0, 0, 1, 1, 2, 2, 3], [5, 5, 5, 5, 5, 5, 5, 5, 5, 9]], float)
    got = row_quantiles(draws, np.array([0.9, 0.95]))
    assert got.tolist() == [2.0, 9.0]
    got = row_quantiles(draws, np.array([0.91, 0.9]))
    assert got.tolist() == [3.0, 5.0]


def test_bootstrap_lead_time_demand_of_a_known_intermittent_series():
    # Daily demand 2 with probability 0.2, else 0; lead time exactly 5 days.
    # Lead-time demand = 2 x Binomial(5, 0.2): P(<= 1 demand day) = 0.73728,
    # P(<= 2) = 0.94208, so the 90% reorder point is 2 x 2 = 4 and the mean is 2.
    pmf = np.array([[0.8, 0.0, 0.2]])
    rng = np.random.default_rng(3)
    draws = sample_lead_time_demand(pmf, np.array([5.0]), np.array([0.0]), 0, 20_000, rng)
    assert set(np.unique(draws).tolist()) <= {0.0, 2.0, 4.0, 6.0, 8.0, 10.0}
    assert draws.mean() == pytest.approx(2.0, abs=0.05)
    assert row_quantiles(draws, np.array([0.9]))[0] == 4.0
    # a normal with the same mean and std puts the 90% point at 2 + 1.2816 x 1.789 = 4.29:
    # between the possible values, and at 95% (4.94) it under-covers (P(<= 4) = 0.942)
    assert (draws <= 4).mean() == pytest.approx(0.94208, abs=0.01)


def test_lead_time_variability_widens_the_lead_time_demand():
    pmf = np.array([[0.0, 1.0]])  # exactly 1 a day: all the spread comes from the lead time
    rng = np.random.default_rng(5)
    fixed = sample_lead_time_demand(pmf, np.array([10.0]), np.array([0.0]), 0, 5000, rng)
    varied = sample_lead_time_demand(pmf, np.array([10.0]), np.array([3.0]), 0, 5000, rng)
    assert fixed.std() == 0 and fixed.mean() == 10
    assert varied.std() == pytest.approx(3.0, rel=0.1)


def test_fill_rate_reorder_point_by_hand():
    from ml.lead_time_demand import fill_rate_reorder_points

    # ten equally likely lead-time demands; order quantity 5
    draws = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 2, 10]], float)
    # E[(X - R)+]: R = 0 -> 1.2, R = 2 -> 0.8, R = 10 -> 0
    # 90% fill allows 0.5 units short per cycle: only R = 10 does
    assert fill_rate_reorder_points(draws, np.array([5.0]), np.array([0.9]))[0] == 10.0
    # 80% allows 1.0: R = 2 is the smallest that meets it
    assert fill_rate_reorder_points(draws, np.array([5.0]), np.array([0.8]))[0] == 2.0


def _rounds_reference(pmf, lead_mean, lead_std, review_days, draws, rng):
    """The sampler as first written: each round finds the active draws in the whole
    table. The shrinking index must give the same draws from the same stream."""
    n = pmf.shape[0]
    p_day, table = _size_table_reference(pmf)
    lead = np.maximum(1, np.rint(rng.normal(lead_mean[:, None], lead_std[:, None], (n, draws))))
    count = rng.binomial(lead.astype(np.int64) + review_days, np.clip(p_day, 0, 1)[:, None])
    out = np.zeros((n, draws))
    for j in range(int(count.max()) if count.size else 0):
        rows, cols = np.nonzero(count > j)
        out[rows, cols] += table[rows, rng.integers(0, 256, rows.size)]
    return out


def _size_table_reference(pmf):
    sizes = pmf[:, 1:]
    tot = sizes.sum(axis=1, keepdims=True)
    cdf = np.cumsum(np.divide(sizes, tot, out=np.zeros_like(sizes), where=tot > 0), axis=1)
    grid = (np.arange(256) + 0.5) / 256
    idx = np.array([np.searchsorted(row, grid, side="left") for row in cdf])
    return 1.0 - pmf[:, 0], (np.minimum(idx, max(sizes.shape[1] - 1, 0)) + 1).astype(float)


def test_sampler_gives_the_round_by_round_draws_exactly():
    gen = np.random.default_rng(3)
    pmf = gen.dirichlet(np.ones(12), size=40) * (gen.random((40, 1)) < 0.8)
    pmf[:, 0] += 1.0 - pmf.sum(axis=1)  # some rows all at 0 (no demand day)
    pmf[5, :] = [0.0, 0.5, 0.5] + [0.0] * 9  # a cdf reaching grid points exactly
    lead, std = gen.uniform(1, 30, 40), gen.uniform(0, 5, 40)
    got = sample_lead_time_demand(pmf, lead, std, 2, 300, np.random.default_rng(9))
    want = _rounds_reference(pmf, lead, std, 2, 300, np.random.default_rng(9))
    assert got.any()
    assert np.array_equal(got, want)
    assert np.array_equal(size_table(pmf)[1], _size_table_reference(pmf)[1])
