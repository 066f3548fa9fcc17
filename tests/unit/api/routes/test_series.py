"""The aggregate-band method of /series (backend/api/routes/series.py) on simulated count
series with known distributions: its 80% and 95% bands cover at their nominal rates."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from backend.api.routes.series import (
    POINT_VARIANCE_SQL,
    Z80,
    Z95,
    aggregate_band,
    band_from_moments,
    point_variance,
)
from tests.services.gold import count_distributions, true_bands

TRIALS = 4000
TOLERANCE = 0.05  # coverage within 5 points of nominal


def _coverage(totals: np.ndarray, lo: float, hi: float) -> float:
    return float(np.mean((totals >= lo) & (totals <= hi)))


def _draws(dists: list, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([d.rvs(size=shape, random_state=rng) for d in dists])


@pytest.mark.parametrize(("series", "seed"), [(40, 1), (200, 2), (1000, 3)])
def test_daily_aggregate_bands_cover_at_nominal_rates(series: int, seed: int) -> None:
    dists = count_distributions(series, seed)
    bands = true_bands(dists)
    band = aggregate_band(*(bands[k] for k in ("yhat", "yhat_lo_80", "yhat_hi_80",
                                               "yhat_lo_95", "yhat_hi_95")))  # fmt: skip
    totals = _draws(dists, (TRIALS,), seed + 100).sum(axis=0)  # independent of the bands
    assert band.yhat == pytest.approx(sum(d.mean() for d in dists))
    assert _coverage(totals, band.lo80, band.hi80) == pytest.approx(0.80, abs=TOLERANCE)
    assert _coverage(totals, band.lo95, band.hi95) == pytest.approx(0.95, abs=TOLERANCE)
    # Summing the series' quantiles instead gives a band far too wide.
    summed = (bands["yhat_lo_80"].sum(), bands["yhat_hi_80"].sum())
    assert _coverage(totals, *summed) > 0.97


@pytest.mark.parametrize(("series", "seed"), [(40, 4), (300, 5)])
def test_weekly_aggregate_bands_cover_at_nominal_rates(series: int, seed: int) -> None:
    """A week of an aggregate: every day of every series is one more independent term."""
    dists = count_distributions(series, seed)
    bands = true_bands(dists)
    week = {k: np.repeat(v, 7) for k, v in bands.items()}
    band = aggregate_band(*(week[k] for k in ("yhat", "yhat_lo_80", "yhat_hi_80",
                                              "yhat_lo_95", "yhat_hi_95")))  # fmt: skip
    totals = _draws(dists, (TRIALS, 7), seed + 100).sum(axis=(0, 2))
    assert _coverage(totals, band.lo80, band.hi80) == pytest.approx(0.80, abs=TOLERANCE)
    assert _coverage(totals, band.lo95, band.hi95) == pytest.approx(0.95, abs=TOLERANCE)


def test_point_variance_is_exact_for_a_normal_forecast() -> None:
    mu, sd = np.array([10.0, 50.0]), np.array([2.0, 7.5])
    variance = point_variance(mu, mu - Z80 * sd, mu + Z80 * sd, mu - Z95 * sd, mu + Z95 * sd)
    assert variance == pytest.approx(sd**2)


def test_point_variance_ignores_a_band_below_the_mean() -> None:
    # A rare-demand day: both bands [0, 0] below a mean of 0.05 say "almost no spread".
    assert point_variance(0.05, 0.0, 0.0, 0.0, 0.0) == pytest.approx(0.0)
    assert point_variance(0.05, 0.0, 0.0, 0.0, 1.0) > 0.0


def test_band_from_moments_is_normal_and_clipped_at_zero() -> None:
    band = band_from_moments(100.0, 25.0)
    assert (band.lo80, band.hi80) == pytest.approx((100 - Z80 * 5, 100 + Z80 * 5))
    assert (band.lo95, band.hi95) == pytest.approx((100 - Z95 * 5, 100 + Z95 * 5))
    small = band_from_moments(0.5, 1.0)
    assert small.lo80 == 0.0 and small.lo95 == 0.0 and small.hi95 == pytest.approx(0.5 + Z95)
    assert band_from_moments(0.0, 0.0) == band_from_moments(0.0, -1e-12)


def test_sql_variance_matches_the_python_one() -> None:
    rng = np.random.default_rng(7)
    mu = rng.gamma(1.0, 3.0, 500)
    points = {
        "yhat": mu,
        "yhat_lo_80": np.maximum(mu - rng.gamma(1.0, 1.0, 500), 0),
        "yhat_hi_80": mu + rng.gamma(1.0, 1.0, 500) - 0.2,  # a few below the mean
        "yhat_lo_95": np.maximum(mu - rng.gamma(1.0, 2.0, 500), 0),
        "yhat_hi_95": mu + rng.gamma(1.0, 2.0, 500),
    }
    points_table = pa.table(points)  # noqa: F841 (read by DuckDB's replacement scan)
    got = duckdb.sql(f"select {POINT_VARIANCE_SQL} as v from points_table").fetchnumpy()["v"]
    assert got == pytest.approx(point_variance(*points.values()), rel=1e-12)
