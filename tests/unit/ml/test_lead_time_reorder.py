"""ml/lead_time_reorder.py on generated data with a known lead-time demand distribution."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from deltalake import DeltaTable

from backend.lake import delta
from backend.settings import Settings
from ml import lead_time_reorder as ltr


def _compound_cdf(p_day: float, sizes: dict[int, float], days: int) -> np.ndarray:
    """Exact cdf of the demand over ``days`` days: each day a demand with probability
    ``p_day``, of a size drawn from ``sizes``."""
    top = days * max(sizes) + 1
    daily = np.zeros(top)
    daily[0] = 1 - p_day
    for size, prob in sizes.items():
        daily[size] += p_day * prob
    total = np.zeros(top)
    total[0] = 1.0
    for _ in range(days):
        total = np.convolve(total, daily)[:top]
    return np.cumsum(total)


def _pairs(n: int, lead: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"I{i}" for i in range(n)],
            "depot_id": "D1",
            "demand_class": "lumpy",
            "lead_time_days": lead,
            "lead_time_std_days": 0.0,
        }
    )


def test_quantiles_match_the_known_lead_time_demand_distribution():
    # intermittent (size 1, demand on 20% of days) and lumpy (sizes 1 or 6) pairs, fixed
    # lead time 10 days: the exact lead-time demand is a compound binomial
    cases = [(0.2, {1: 1.0}), (0.1, {1: 0.5, 6: 0.5})]
    pmf = np.zeros((2, 7))
    for row, (p_day, sizes) in enumerate(cases):
        pmf[row, 0] = 1 - p_day
        for size, prob in sizes.items():
            pmf[row, size] = p_day * prob
    draws = 40_000
    rows = ltr.quantile_rows(_pairs(2, 10.0), pmf, np.random.default_rng(5), draws=draws)
    assert len(rows) == 2 * len(ltr.LEVEL_KEYS)
    for row, (p_day, sizes) in enumerate(cases):
        cdf = _compound_cdf(p_day, sizes, 10)
        mine = rows[rows["item_id"] == f"I{row}"].sort_values("level_key")
        for level, q in zip(mine["service_level"], mine["lead_time_demand"], strict=True):
            k = int(q)
            assert q == k
            # the smallest quantity covering the level, within the draws' sampling error
            assert cdf[k] >= level - 0.005, (row, level, k, cdf[k])
            assert k == 0 or cdf[k - 1] < level + 0.005, (row, level, k, cdf[k - 1])
        # quantiles never fall as the level rises
        assert np.all(np.diff(mine["lead_time_demand"].to_numpy()) >= 0)


def test_stockout_days_are_left_out_and_cut_days_count_as_at_least():
    history = pd.DataFrame(
        {
            "unique_id": ["A|D"] * 4 + ["B|D"] * 2,
            "ds": pd.to_datetime(
                ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-01", "2026-01-03"]
            ),
            "y": [0.0, 2.0, 1.0, 0.0, 3.0, 0.0],
            "stock_state": [None, "cut", None, "out", None, None],
        }
    )
    recorded, available = ltr.demand_matrices(history, ["A|D", "B|D"])
    assert recorded.tolist() == [[0, 2, 1, 0], [3, 0, 0, 0]]
    # out: 0 (left out); cut: the issued quantity (demand at least that); else exact;
    # a day without a row (B on 01-02 and 01-04): left out
    assert available.tolist() == [[np.inf, 2, np.inf, 0], [np.inf, 0, np.inf, 0]]


def test_a_rerun_replaces_the_dates_partition(tmp_path: Path):
    settings = Settings(lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    ltr.ensure_table(settings)
    uri = delta.table_uri(*ltr.LEAD_TIME_QUANTILES, settings=settings)
    assert DeltaTable(uri).to_pyarrow_dataset().count_rows() == 0
    pmf = np.array([[0.5, 0.5], [0.9, 0.1]])
    rows = ltr.quantile_rows(_pairs(2, 3.0), pmf, np.random.default_rng(1), draws=50)
    for day in (date(2026, 10, 30), date(2026, 10, 31), date(2026, 10, 31)):
        ltr.write_quantiles(ltr.to_table(rows, day), day, settings)
    ltr.ensure_table(settings)  # an existing table is left as it is
    table = DeltaTable(uri).to_pandas()
    assert len(table) == 2 * len(rows)
    assert table.groupby("forecast_date").size().tolist() == [len(rows), len(rows)]


def test_demand_matrices_of_categorical_ids_and_a_first_day():
    """Categorical ids (the daily run's history) and ``since`` give the matrices of the
    plain ids on the rows from that day."""
    history = pd.DataFrame(
        {
            "unique_id": ["A|D", "A|D", "A|D", "C|D", "B|D", "B|D"],
            "ds": pd.to_datetime(
                ["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-02", "2026-01-02", "2026-01-03"]
            ),
            "y": [5.0, 2.0, 1.0, 7.0, 3.0, np.nan],
            "stock_state": [None, "cut", None, None, "out", None],
        }
    )
    cat = history.assign(unique_id=history["unique_id"].astype("category"))
    since = np.datetime64("2026-01-02")
    got = ltr.demand_matrices(cat, ["B|D", "A|D"], since=since)
    want = ltr.demand_matrices(history[history["ds"] >= since], ["B|D", "A|D"])
    # days 01-02, 01-03, 01-04; the day before `since` and the series not asked left out
    assert got[0].tolist() == want[0].tolist() == [[3, 0, 0], [2, 0, 1]]
    assert got[1].tolist() == want[1].tolist() == [[0, np.inf, 0], [2, 0, np.inf]]
