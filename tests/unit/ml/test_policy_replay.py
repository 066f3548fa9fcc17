"""The policy replay against cases simulated by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ml.policy_replay import Replay, order_quantities, replay


def _one(days: list[float], s: float, big_s: float, lead: int, start: float) -> Replay:
    demand = np.array([days], dtype=float)
    lead_time = np.full(demand.shape, lead)
    return replay(
        demand, np.array([s]), np.array([big_s]), lead_time, np.array([start]), np.ones(1)
    )


def test_lost_sales_fill_rate_and_stock_by_hand():
    # s=2, S=6, lead 2, start 4. Day by day (receipt, demand, met, end on hand, order):
    # d0: -, 0, 0, 4 | d1: -, 4, 4, 0, pos 0 <= 2 -> order 6 (arrives d3)
    # d2: -, 4, 0 (4 lost), 0 | d3: +6, 0, 0, 6 | d4: 3, 3, 3 | d5: 1, 1, 2 -> order 4 (d7)
    r = _one([0, 4, 4, 0, 3, 1], s=2, big_s=6, lead=2, start=4)
    assert r.demand[0] == 12 and r.served[0] == 8
    assert r.fill_rate() == pytest.approx(8 / 12)
    assert r.avg_on_hand[0] == pytest.approx((4 + 0 + 0 + 6 + 3 + 2) / 6)
    assert r.orders[0] == 2 and r.on_hand[0] == 2
    # one day (d2) had demand that stock could not meet
    assert r.short_days[0] == 1
    # one receipt closed one cycle, which had lost sales
    assert (r.cycles[0], r.cycles_short[0]) == (1, 1)
    assert r.cycle_service_level() == 0.0


def test_no_stockout_when_the_reorder_point_covers_lead_time_demand():
    # 2 a day, s=3, S=8, lead 2, start 5: orders on d0 (5 units, in d2) and d3 (6, in d5)
    r = _one([2] * 6, s=3, big_s=8, lead=2, start=5)
    assert r.fill_rate() == 1.0
    assert r.avg_on_hand[0] == pytest.approx((3 + 1 + 4 + 2 + 0 + 4) / 6)
    assert (r.cycles[0], r.cycles_short[0], r.orders[0]) == (2, 0, 2)
    cost = np.array([10.0])
    assert r.inventory_value(cost) == pytest.approx(10.0 * 14 / 6)


def test_per_day_parameters_and_shared_lead_times():
    # the second series only starts reordering once its reorder point rises on day 2
    demand = np.array([[1, 1, 1, 1], [1, 1, 1, 1]], dtype=float)
    rop = np.array([[0, 0, 0, 0], [-1, -1, 5, 5]], dtype=float)
    r = replay(demand, rop, rop + 2, np.full((2, 4), 1), np.array([1.0, 4.0]), np.ones(2))
    # series 0: d0 met, 0 left, order 2 (d1); d1 +2 -> 1; d2 -> 0, order 2; d3 +2 -> 1
    assert r.served.tolist() == [4, 4]
    assert r.orders.tolist() == [2, 1]
    # series 1: 3, 2, then 1 <= 5 -> order 6 (up to 7) arrives d3: 1 + 6 - 1 = 6
    assert r.avg_on_hand[1] == pytest.approx((3 + 2 + 1 + 6) / 4)


def test_minimum_order_quantity_rules():
    pos, out, moq = np.array([10.0, 80.0]), np.array([87.9, 87.9]), np.array([20.0, 20.0])
    # ml.inventory's rule: whole multiples of the MOQ; the ERP's: at least the MOQ
    assert order_quantities(pos, out, moq, "multiple").tolist() == [80.0, 20.0]
    assert order_quantities(pos, out, moq, "minimum").tolist() == [78.0, 20.0]


def test_lead_times_must_be_whole_days_of_at_least_one():
    with pytest.raises(ValueError):
        replay(np.ones((1, 2)), np.zeros(1), np.ones(1), np.zeros((1, 2)), np.ones(1), np.ones(1))
